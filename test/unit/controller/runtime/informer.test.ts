// The informer on a real SQLite store: list then watch, and recovery when the watch fails or the
// history it needs was compacted (410 Gone): it relists, reports what changed meanwhile, watches on;
// events carry the old object, indexes follow the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/clock.js';
import { Informer } from '../../../../controller/runtime/informer.js';
import { GoneError, IllegalStateError, InvariantError, UnavailableError } from '../../../../resources/errors.js';
import type { ChangeEvent } from '../../../../controller/runtime/types.js';
import type { Sliver } from '../../../../schemas/types.js';
import type { Store, WatchHandlers } from '../../../../adapters/store/contract.js';
import { silentLog as silent, tempStore, until } from '../../../support/runtime-helpers.js';
import { sliver } from '../../../../adapters/store/conformance.js';

/** The real store with its `watch` replaced (every other method goes to the real store). */
function withWatch(store: Store, watch: Store['watch']): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'watch') return watch;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The real store, with a handle on the informer's watch so a test can end it abnormally. */
function breakableStore(store: Store): { store: Store; breakWatch: () => void } {
  let current: { stop(): void; handlers: WatchHandlers } | undefined;
  const wrapped = withWatch(store, (options, handlers) => {
    const watch = store.watch(options, handlers);
    current = { stop: () => watch.stop(), handlers };
    return watch;
  });
  return {
    store: wrapped,
    breakWatch() {
      assert.ok(current, 'a watch is running');
      current.stop();
      current.handlers.onError?.(new UnavailableError('connection to the store lost'));
    },
  };
}

test('the informer relists after a failed watch and reports what changed while it was down', { timeout: 10_000 }, async (t) => {
  const real = tempStore(t);
  const { store, breakWatch } = breakableStore(real);
  await store.create(sliver('keep'));
  await store.create(sliver('gone'));
  const clock = new FakeClock();
  const informer = new Informer({ store, clock, log: silent, kinds: ['Sliver'] });
  const events: string[] = [];
  // The first list's events say so (keysFor may rely on every object having one); a relist's do not.
  informer.onEvent((e: ChangeEvent) => events.push(`${e.type} ${e.object.metadata.name}${e.initialList ? ' (initial list)' : ''}`));
  await informer.start();
  assert.deepEqual(events.sort(), ['ADDED gone (initial list)', 'ADDED keep (initial list)']);
  events.length = 0;

  breakWatch();
  assert.equal(informer.isWatching(), false);
  await store.delete('Sliver', 'gone');
  await store.create(sliver('new'));
  const keep = await store.get('Sliver', 'keep');
  await store.update({ ...keep, spec: { ...keep.spec, timestamp: 9 } });
  assert.deepEqual(events, [], 'nothing is seen while the watch is down');

  assert.equal(clock.pendingTimers(), 1, 'a reconnect is scheduled, not given up');
  clock.advance(100);
  await until(() => informer.isWatching(), 'the informer watches again');
  assert.deepEqual(events.sort(), ['ADDED new', 'DELETED gone', 'MODIFIED keep']);
  assert.equal(informer.get('Sliver', 'keep')?.spec.timestamp, 9);
  assert.equal(informer.relists, 1);

  events.length = 0;
  await store.create(sliver('after'));
  await until(() => events.length === 1, 'the new watch delivers');
  assert.deepEqual(events, ['ADDED after']);
  await informer.close();
});

test('a watch ended by 410 Gone relists at once, and keeps retrying with backoff while relisting fails', { timeout: 10_000 }, async (t) => {
  const real = tempStore(t, { historyLimit: 2 });
  let current: WatchHandlers | undefined;
  let watches = 0;
  // The second watch asks for history that was compacted meanwhile: the real store answers 410.
  const store = withWatch(real, (options, handlers) => {
    watches += 1;
    current = handlers;
    return real.watch(watches === 2 ? { ...options, sinceRevision: real.compactedRevision() - 1 } : options, handlers);
  });
  await real.create(sliver('s1'));
  const clock = new FakeClock();
  const informer = new Informer({ store, clock, log: silent, kinds: ['Sliver'] });
  await informer.start();
  for (const name of ['s2', 's3', 's4']) await real.create(sliver(name));
  await until(() => informer.list('Sliver').length === 4, 'the watch delivers');
  await real.compact(1);

  current?.onError?.(new GoneError('too old resource version'));
  assert.deepEqual(
    clock.pendingDueTimes().map((due) => due - clock.now()),
    [0],
    'Gone relists at once',
  );
  await real.create(sliver('s5'));
  clock.advance(0);
  await until(() => clock.pendingTimers() === 1, 'the failed relist schedules another');
  assert.equal(watches, 2);
  assert.equal(informer.isWatching(), false);
  assert.deepEqual(
    clock.pendingDueTimes().map((due) => due - clock.now()),
    [200],
    'the second failure in a row backs off',
  );
  clock.advance(200);
  await until(() => informer.isWatching(), 'the informer watches again');
  assert.deepEqual(
    informer
      .list('Sliver')
      .map((s) => s.metadata.name)
      .sort(),
    ['s1', 's2', 's3', 's4', 's5'],
  );
  await informer.close();
});

test('an index value with many objects (past the small lists) gains and loses names as they change', { timeout: 10_000 }, async (t) => {
  const store = tempStore(t);
  const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
  for (const name of names) await store.create(sliver(name, { type: 'one' }));
  const informer = new Informer({ store, clock: new FakeClock(), log: silent, kinds: ['Sliver'] });
  informer.addIndex('Sliver', 'by-type', (s) => [s.spec.type]);
  await informer.start();
  t.after(() => informer.close());
  const indexed = (type: string) =>
    informer
      .byIndex('Sliver', 'by-type', type)
      .map((s) => s.metadata.name)
      .sort();
  assert.deepEqual(indexed('one'), [...names].sort());
  // Moved away one by one: the value's names shrink from many to one to none.
  for (const [i, name] of names.entries()) {
    const current = await store.get('Sliver', name);
    if (i % 2 === 0) await store.update({ ...current, spec: { ...current.spec, type: 'two' } });
    else await store.delete('Sliver', name);
  }
  await until(() => indexed('one').length === 0 && indexed('two').length === 10, 'the watch delivers every change');
  assert.deepEqual(indexed('two'), names.filter((_, i) => i % 2 === 0).sort());
  // A status write leaves the index values as they were.
  const moved = await store.get('Sliver', 's0');
  await store.updateStatus({ ...moved, status: { running: true } });
  await until(() => informer.get('Sliver', 's0')?.status?.running === true, 'the status write is seen');
  assert.equal(indexed('two').length, 10);
  assert.deepEqual(indexed('one'), []);
});

test('events carry the object the cache held before; indexes follow every change, relists included', { timeout: 10_000 }, async (t) => {
  const real = tempStore(t);
  const { store, breakWatch } = breakableStore(real);
  const clock = new FakeClock();
  const informer = new Informer({ store, clock, log: silent, kinds: ['Sliver'] });
  const byType = (s: Sliver) => [s.spec.type];
  await real.create(sliver('a', { type: 'one' }));
  informer.addIndex('Sliver', 'by-type', byType);
  // Two values per object (most indexes have one, kept apart from the others).
  informer.addIndex('Sliver', 'by-type-and-name', (s) => [s.spec.type, s.metadata.name]);
  const events: ChangeEvent[] = [];
  informer.onEvent((event) => events.push(event));
  await informer.start();
  informer.addIndex('Sliver', 'by-type', byType); // the same function again: a no-op
  assert.throws(() => informer.addIndex('Sliver', 'by-type', (s) => [s.metadata.name]), InvariantError, 'another function under a taken name is a bug');
  assert.throws(() => informer.byIndex('Sliver', 'by-name', 'a'), /no Sliver index "by-name"/);
  const names = (type: string) =>
    informer
      .byIndex('Sliver', 'by-type', type)
      .map((s) => s.metadata.name)
      .sort();
  assert.deepEqual(names('one'), ['a'], 'objects cached before the index was added are indexed');

  const a = await real.get('Sliver', 'a');
  await real.update({ ...a, spec: { ...a.spec, type: 'two' } });
  await real.create(sliver('b', { type: 'two' }));
  await until(() => events.length === 3, 'the watch delivers');
  const modified = events[1]!;
  assert.equal(modified.type, 'MODIFIED');
  assert.equal(modified.resync, false);
  assert.equal((modified.oldObject as Sliver).spec.type, 'one', 'the old object is the one cached before');
  assert.equal((modified.object as Sliver).spec.type, 'two');
  assert.equal(events[2]!.oldObject, undefined, 'ADDED has no old object');
  assert.deepEqual(names('one'), []);
  assert.deepEqual(names('two'), ['a', 'b']);
  const both = (value: string) =>
    informer
      .byIndex('Sliver', 'by-type-and-name', value)
      .map((s) => s.metadata.name)
      .sort();
  assert.deepEqual([both('one'), both('two'), both('a'), both('b')], [[], ['a', 'b'], ['a'], ['b']]);

  breakWatch();
  await real.delete('Sliver', 'b');
  clock.advance(100);
  await until(() => informer.isWatching(), 'the informer watches again');
  const deleted = events.at(-1)!;
  assert.equal(deleted.type, 'DELETED');
  assert.equal((deleted.oldObject as Sliver).spec.type, 'two', 'a delete found by relisting carries the cached object');
  assert.deepEqual(names('two'), ['a'], 'the relist re-indexed');
  assert.deepEqual([both('two'), both('b')], [['a'], []], "each of a deleted object's values is removed");
  await informer.close();
  assert.equal(informer.state, 'closed');
  await assert.rejects(informer.start(), IllegalStateError);
});
