// The Manager on a real SQLite store with a fake clock: every object reconciled, no key reconciled
// twice at once, a change during a reconcile runs it again, backoff through the manager,
// requeueAfter, terminal errors, isolation of a failing key, resync, metrics and events.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/clock.js';
import { Manager, type ManagerOptions } from '../../../../controller/runtime/manager.js';
import type { ReconcileResult, Reconciler } from '../../../../controller/runtime/types.js';
import { IllegalStateError, TerminalError } from '../../../../resources/errors.js';
import type { Store } from '../../../../adapters/store/contract.js';
import { silentLog as silent, tempStore, until } from '../../../support/runtime-helpers.js';
import { sliver } from '../../../../adapters/store/conformance.js';
import { pino } from 'pino';

function setup(t: TestContext, options: Partial<ManagerOptions> = {}): { store: Store; clock: FakeClock; manager: Manager } {
  const store = tempStore(t);
  const clock = new FakeClock();
  const manager = new Manager({ store, clock, log: silent, workers: 4, resyncPeriodMs: 0, eventRetentionMs: 0, backoff: { baseDelayMs: 100, maxDelayMs: 1000 }, ...options });
  t.after(() => manager.close());
  return { store, clock, manager };
}

function reconciler(name: string, reconcile: (key: string) => Promise<ReconcileResult | void> | ReconcileResult | void): Reconciler {
  return { name, watches: ['Sliver'], reconcile: async (key) => reconcile(key) };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Fire the next pending fake timer, then wait for the work it queued. */
async function nextTimer(clock: FakeClock, manager: Manager): Promise<void> {
  const [due] = clock.pendingDueTimes();
  assert.ok(due !== undefined, 'a timer is pending');
  clock.advance(due - clock.now());
  await manager.waitForIdle();
}

test('existing objects and later changes are reconciled, each key once per change', { timeout: 10_000 }, async (t) => {
  const { store, manager } = setup(t);
  await store.create(sliver('alpha'));
  await store.create(sliver('beta'));
  const seen: string[] = [];
  manager.add(reconciler('record', (key) => void seen.push(key)));
  await manager.start();
  await manager.waitForIdle();
  assert.deepEqual([...seen].sort(), ['alpha', 'beta']);
  await store.create(sliver('gamma'));
  await manager.waitForIdle();
  assert.deepEqual([...seen].sort(), ['alpha', 'beta', 'gamma']);
  assert.ok(manager.cache.get('Sliver', 'gamma'), 'the cache holds the new object');
});

test('a key is never reconciled by two workers at once, and a change while running runs it again', { timeout: 10_000 }, async (t) => {
  const { store, manager } = setup(t);
  const created = await store.create(sliver('alpha'));
  const gate = deferred();
  const running = deferred();
  let active = 0;
  let maxActive = 0;
  let calls = 0;
  const specSeen: number[] = [];
  manager.add(
    reconciler('slow', async (key) => {
      active += 1;
      calls += 1;
      maxActive = Math.max(maxActive, active);
      if (calls === 1) {
        running.resolve();
        await gate.promise;
      }
      specSeen.push(manager.cache.get('Sliver', key)?.spec.timestamp ?? -1);
      active -= 1;
    }),
  );
  await manager.start();
  await running.promise;
  let current = created;
  for (const timestamp of [1, 2, 3]) current = await store.update({ ...current, spec: { ...current.spec, timestamp } });
  // Hold the first reconcile until the informer has delivered all three changes.
  await until(() => manager.cache.get('Sliver', 'alpha')?.spec.timestamp === 3, 'the informer delivers the changes');
  gate.resolve();
  await manager.waitForIdle();
  assert.equal(maxActive, 1);
  assert.equal(calls, 2, 'three changes during one reconcile cause exactly one more');
  assert.equal(specSeen.at(-1), 3, 'the re-run reads the current state');
});

test('a failing key backs off 100, 200, 400 ms and stops retrying after success', { timeout: 10_000 }, async (t) => {
  const { store, clock, manager } = setup(t);
  await store.create(sliver('flaky'));
  const times: number[] = [];
  manager.add(
    reconciler('flaky', () => {
      times.push(clock.now());
      if (times.length <= 3) throw new Error(`attempt ${times.length} failed`);
    }),
  );
  await manager.start();
  await manager.waitForIdle();
  for (let i = 0; i < 3; i++) await nextTimer(clock, manager);
  assert.deepEqual(
    times.slice(1).map((time, i) => time - (times[i] as number)),
    [100, 200, 400],
  );
  assert.equal(clock.pendingTimers(), 0, 'no retry after success');
  const metrics = await manager.registry.metrics();
  assert.match(metrics, /controller_runtime_reconcile_total\{controller="flaky",result="error"\} 3/);
  assert.match(metrics, /controller_runtime_reconcile_total\{controller="flaky",result="success"\} 1/);
  assert.match(metrics, /controller_runtime_reconcile_errors_total\{controller="flaky"\} 3/);
  assert.match(metrics, /slv_reconcile_errors_total\{controller="flaky",reason="Error"\} 3/);
  assert.match(metrics, /workqueue_retries_total\{name="flaky"\} 3/);
  const events = (await store.list('Event')).items.filter((e) => e.spec.involvedObject.name === 'flaky');
  assert.equal(events.length, 3, 'one Warning per distinct message');
  assert.ok(events.every((e) => e.spec.type === 'Warning' && e.spec.reason === 'ReconcileError' && e.spec.source === 'flaky'));
});

test('requeueAfter reconciles again after exactly that delay, without counting a failure', { timeout: 10_000 }, async (t) => {
  const { store, clock, manager } = setup(t);
  await store.create(sliver('periodic'));
  let calls = 0;
  manager.add(
    reconciler('periodic', () => {
      calls += 1;
      return { requeueAfter: 5000 };
    }),
  );
  await manager.start();
  await manager.waitForIdle();
  assert.equal(calls, 1);
  clock.advance(4999);
  await manager.waitForIdle();
  assert.equal(calls, 1);
  clock.advance(1);
  await manager.waitForIdle();
  assert.equal(calls, 2);
  assert.match(await manager.registry.metrics(), /controller_runtime_reconcile_total\{controller="periodic",result="requeue_after"\} 2/);
});

test('a TerminalError is recorded and not retried; other keys carry on', { timeout: 10_000 }, async (t) => {
  const { store, clock, manager } = setup(t);
  await store.create(sliver('broken'));
  await store.create(sliver('fine'));
  const calls = new Map<string, number>();
  manager.add(
    reconciler('picky', (key) => {
      calls.set(key, (calls.get(key) ?? 0) + 1);
      if (key === 'broken') throw new TerminalError('spec cannot be satisfied');
    }),
  );
  await manager.start();
  await manager.waitForIdle();
  clock.advance(3_600_000);
  await manager.waitForIdle();
  assert.deepEqual(Object.fromEntries(calls), { broken: 1, fine: 1 });
  const [event] = (await store.list('Event')).items.filter((e) => e.spec.involvedObject.name === 'broken');
  assert.equal(event?.spec.reason, 'ReconcileFailed');
  assert.equal(event?.spec.message, 'spec cannot be satisfied');
});

test('a reconcile that throws synchronously or rejects does not stop the controller', { timeout: 10_000 }, async (t) => {
  const { store, manager } = setup(t, { workers: 1 });
  for (const name of ['a1', 'a2', 'a3']) await store.create(sliver(name));
  const done: string[] = [];
  manager.add({
    name: 'mixed',
    watches: ['Sliver'],
    reconcile: (key) => {
      if (key === 'a1') throw new TypeError('synchronous bug');
      if (key === 'a2') return Promise.reject(new Error('async failure'));
      done.push(key);
      return Promise.resolve();
    },
  });
  await manager.start();
  await manager.waitForIdle();
  assert.deepEqual(done, ['a3']);
  await store.create(sliver('a4'));
  await manager.waitForIdle();
  assert.deepEqual(done, ['a3', 'a4']);
});

test('resync queues every cached object again each period', { timeout: 10_000 }, async (t) => {
  const { store, clock, manager } = setup(t, { resyncPeriodMs: 60_000 });
  await store.create(sliver('one'));
  await store.create(sliver('two'));
  let calls = 0;
  manager.add(reconciler('resync', () => void (calls += 1)));
  await manager.start();
  await manager.waitForIdle();
  assert.equal(calls, 2);
  clock.advance(60_000);
  await manager.waitForIdle();
  assert.equal(calls, 4);
  clock.advance(60_000);
  await manager.waitForIdle();
  assert.equal(calls, 6);
});

test('keysFor maps changes of other kinds to keys; a throwing keysFor is contained', { timeout: 10_000 }, async (t) => {
  const { store, manager } = setup(t);
  await store.create(sliver('lender'));
  const seen: string[] = [];
  manager.add({
    name: 'loans',
    watches: ['Sliver', 'Loan'],
    keysFor: (event) => {
      if (event.object.kind === 'Loan' && event.object.metadata.name === 'lender.bad') throw new Error('cannot map');
      return event.object.kind === 'Loan' ? [event.object.spec.from] : [event.object.metadata.name];
    },
    reconcile: async (key) => void seen.push(key),
  });
  await manager.start();
  await manager.waitForIdle();
  const loan = (name: string) => ({
    apiVersion: 'nm.planet-lab.org/v1' as const,
    kind: 'Loan' as const,
    metadata: { name },
    spec: { from: 'lender', to: 'x', resource: 'cpu_share' as const, amount: 1, order: 0 },
  });
  await store.create(loan('lender.bad'));
  await store.create(loan('lender.good'));
  await manager.waitForIdle();
  assert.deepEqual(seen, ['lender', 'lender']);
});

test('stop drains what is queued and resolves', { timeout: 10_000 }, async (t) => {
  const { store, manager } = setup(t, { workers: 1 });
  for (const name of ['s1', 's2', 's3']) await store.create(sliver(name));
  const done: string[] = [];
  manager.add(reconciler('drain', async (key) => void done.push(key)));
  await manager.start();
  await manager.close();
  assert.deepEqual(done.sort(), ['s1', 's2', 's3']);
});

test('resync events say so; a handle queues keys; runnables start after the cache and close first, in reverse', { timeout: 10_000 }, async (t) => {
  const { store, clock, manager } = setup(t, { resyncPeriodMs: 60_000 });
  await store.create(sliver('one'));
  const events: string[] = [];
  const reconciled: string[] = [];
  const handle = manager.add({
    name: 'flags',
    watches: ['Sliver'],
    keysFor: (event) => {
      events.push(`${event.type}${event.resync ? ' resync' : ''} ${event.object.metadata.name}`);
      return [event.object.metadata.name];
    },
    reconcile: async (key) => void reconciled.push(key),
  });
  const order: string[] = [];
  const runnable = (name: string) => ({
    name,
    state: 'new' as const,
    start: async () => void order.push(`start ${name}: ${manager.cache.list('Sliver').length} cached`),
    close: async () => void order.push(`close ${name}`),
  });
  const changes: string[] = [];
  manager.onChange(['Sliver'], (event) => changes.push(`${event.type} ${event.object.metadata.name}`));
  const first = manager.addRunnable(runnable('first'));
  await manager.start();
  await first;
  await manager.addRunnable(runnable('late'));
  await manager.waitForIdle();
  assert.deepEqual(order, ['start first: 1 cached', 'start late: 1 cached']);
  assert.deepEqual(changes, ['ADDED one']);

  handle.enqueue('not-an-object');
  clock.advance(60_000);
  await manager.waitForIdle();
  assert.deepEqual(events, ['ADDED one', 'MODIFIED resync one']);
  assert.deepEqual(reconciled.sort(), ['not-an-object', 'one', 'one']);
  assert.deepEqual(changes, ['ADDED one'], 'a resync is no change');

  await manager.close();
  assert.deepEqual(order.slice(2), ['close late', 'close first']);
  assert.throws(() => manager.add(reconciler('too-late', () => undefined)), IllegalStateError);
});

test('a runnable waiting for idle while the manager closes does not hold up the close', { timeout: 10_000 }, async (t) => {
  const { store, manager } = setup(t);
  await store.create(sliver('one'));
  const gate = deferred();
  manager.add(reconciler('slow', () => gate.promise));
  let waited: Promise<void> | undefined;
  let closeStarted!: () => void;
  const closing = new Promise<void>((resolve) => (closeStarted = resolve));
  const added = manager.addRunnable({
    name: 'waits-for-idle',
    state: 'new',
    start: async () => undefined,
    close: async () => {
      closeStarted();
      await waited; // like the PLC poller's readiness report, in flight when SIGTERM comes
    },
  });
  await manager.start();
  await added;
  waited = manager.waitForIdle();
  const closed = manager.close();
  await closing;
  gate.resolve();
  await closed;
  assert.equal(manager.state, 'closed');
});

test("a deletion is a Deleted Event saying who deleted; the object's Events stay for the retention, then the event collector removes them", { timeout: 10_000 }, async (t) => {
  const hour = 60 * 60_000;
  const { store, clock, manager } = setup(t, { eventRetentionMs: hour });
  manager.add(reconciler('noop', () => undefined));
  await store.create({ ...sliver('held'), metadata: { name: 'held', finalizers: ['test/hold'] } });
  await store.create(sliver('plain'));
  await manager.start();
  const start = clock.now();
  await store.delete('Sliver', 'held', { deletedBy: 'PLC: GetSlivers no longer lists it as a sliver' });
  await store.delete('Sliver', 'plain');
  await manager.waitForIdle();
  const reasons = async () => (await store.list('Event')).items.map((e) => `${e.spec.involvedObject.name} ${e.spec.reason}: ${e.spec.message}`).sort();
  assert.deepEqual(await reasons(), ['held Deleted: sliver held deleted by PLC: GetSlivers no longer lists it as a sliver', 'plain Deleted: sliver plain deleted']);
  const held = await store.get('Sliver', 'held');
  await store.update({ ...held, metadata: { ...held.metadata, finalizers: [] } });
  await manager.waitForIdle();
  assert.equal((await reasons()).length, 2, 'removing the finalizer records nothing more, and the Events outlive their objects');

  clock.advance(hour / 2);
  await manager.waitForIdle();
  assert.equal((await reasons()).length, 2, 'kept within the retention');
  while (clock.now() < start + hour * 2) await nextTimer(clock, manager);
  assert.deepEqual(await reasons(), [], 'collected after it');
});

test("a reconcile's logger names the controller and the key, for what the reconciler logs and for its failure", { timeout: 10_000 }, async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const { store, manager } = setup(t, { log });
  await store.create(sliver('alpha'));
  await store.create(sliver('beta'));
  manager.add({
    name: 'talker',
    watches: ['Sliver'],
    reconcile: async (key, context) => {
      if (key === 'alpha') context.log.info('said by the reconciler');
      else throw new TerminalError('beta cannot be');
    },
  });
  await manager.start();
  await manager.waitForIdle();
  const said = lines.find((line) => line.msg === 'said by the reconciler');
  assert.equal(said?.controller, 'talker');
  assert.equal(said?.key, 'alpha');
  const failed = lines.find((line) => line.msg === 'reconcile failed permanently; not retrying');
  assert.equal(failed?.controller, 'talker');
  assert.equal(failed?.key, 'beta');
});
