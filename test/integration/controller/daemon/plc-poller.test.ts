// The PLC poller on a fake clock: sync at start and every period, a sync requested while one is in
// flight runs right after it, a new period applies to the next sync, stop ends polling; a random
// delay up to the jitter is added to each period; an unreachable PLC is retried soon, backing off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PlcStateFile, PlcSync, type GetSliversSource } from '../../../../adapters/plc/index.js';
import { UnavailableError } from '../../../../resources/errors.js';
import { PlcPoller } from '../../../../controller/daemon/plc-poller.js';
import { FakeClock } from '../../../../controller/runtime/clock.js';
import { silentLog, tempDir, tempStore, until } from '../../../support/runtime-helpers.js';

test('the poller syncs at start, every period, again after an in-flight sync when asked, and stops', { timeout: 10_000 }, async (t) => {
  const store = tempStore(t);
  let fetches = 0;
  let release: (() => void) | undefined;
  const source: GetSliversSource = {
    description: 'counted',
    async fetch() {
      fetches += 1;
      if (fetches === 3) await new Promise<void>((resolve) => (release = resolve));
      return { timestamp: fetches, slivers: [{ name: 'pl_a' }] };
    },
  };
  const sync = new PlcSync({ store, source, state: new PlcStateFile(join(tempDir(t), 'state.json')), log: silentLog });
  const clock = new FakeClock();
  const outcomes: string[] = [];
  const poller = new PlcPoller({ sync, clock, periodMs: 60_000, log: silentLog, onSynced: (result) => void outcomes.push(result.outcome) });

  await poller.start();
  assert.equal(fetches, 1);
  assert.deepEqual(
    clock.pendingDueTimes().map((due) => due - clock.now()),
    [60_000],
  );
  clock.advance(60_000);
  await until(() => outcomes.length === 2, 'the periodic sync ran');
  assert.equal(fetches, 2);

  poller.setTiming({ periodMs: 10_000 });
  assert.deepEqual(
    clock.pendingDueTimes().map((due) => due - clock.now()),
    [10_000],
    'the new period applies to the next sync',
  );
  clock.advance(10_000);
  await until(() => release !== undefined, 'the third sync is in flight');
  poller.trigger();
  release?.();
  await until(() => outcomes.length === 3, 'the third sync finished');
  assert.deepEqual(
    clock.pendingDueTimes().map((due) => due - clock.now()),
    [0],
    'the requested sync follows at once',
  );
  clock.advance(0);
  await until(() => outcomes.length === 4, 'the requested sync ran');
  assert.equal(fetches, 4);
  assert.equal((await store.get('Sliver', 'pl_a')).spec.timestamp, 4);

  await poller.close();
  assert.equal(clock.pendingTimers(), 0);
});

test('jitter: each period gets a random delay up to the jitter; an unreachable PLC is retried after 5 s, 10 s, ... up to the period', { timeout: 10_000 }, async (t) => {
  const store = tempStore(t);
  let reachable = true;
  const source: GetSliversSource = {
    description: 'flaky',
    fetch() {
      return reachable ? Promise.resolve({ timestamp: 1, slivers: [] }) : Promise.reject(new UnavailableError('cannot reach PLC: ECONNREFUSED'));
    },
  };
  const sync = new PlcSync({ store, source, state: new PlcStateFile(join(tempDir(t), 'state.json')), log: silentLog });
  const clock = new FakeClock();
  const draws = [0.5, 0.25];
  const outcomes: string[] = [];
  const poller = new PlcPoller({
    sync,
    clock,
    periodMs: 60_000,
    jitterMs: 30_000,
    log: silentLog,
    onSynced: (result) => void outcomes.push(result.outcome),
    random: () => draws.shift() ?? 0,
  });
  const nextDelay = () => clock.pendingDueTimes().map((due) => due - clock.now());

  await poller.start();
  assert.deepEqual(nextDelay(), [75_000], 'period + 0.5 of the jitter');
  reachable = false;
  const expected = [5_000, 10_000, 20_000, 40_000, 60_000, 60_000];
  clock.advance(75_000);
  for (const [i, delay] of expected.entries()) {
    await until(() => outcomes.length === i + 2, `failed sync ${i + 1}`);
    assert.deepEqual(nextDelay(), [delay], `retry ${i + 1}`);
    if (i === expected.length - 1) reachable = true;
    clock.advance(delay);
  }
  await until(() => outcomes.at(-1) === 'applied', 'PLC answered again');
  assert.deepEqual(nextDelay(), [67_500], 'back to period + jitter once PLC answers');
  assert.deepEqual([...new Set(outcomes)], ['applied', 'unreachable']);
  await poller.close();
});
