// The PLC poller on a fake clock: sync at start and every period, a sync requested while one is in
// flight runs right after it, a new period applies to the next sync, stop ends polling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PlcStateFile, PlcSync, type GetSliversSource } from '../../../../adapters/plc/index.js';
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
  assert.deepEqual(clock.pendingDueTimes().map((due) => due - clock.now()), [60_000]);
  clock.advance(60_000);
  await until(() => outcomes.length === 2, 'the periodic sync ran');
  assert.equal(fetches, 2);

  poller.setPeriod(10_000);
  assert.deepEqual(clock.pendingDueTimes().map((due) => due - clock.now()), [10_000], 'the new period applies to the next sync');
  clock.advance(10_000);
  await until(() => release !== undefined, 'the third sync is in flight');
  poller.trigger();
  release?.();
  await until(() => outcomes.length === 3, 'the third sync finished');
  assert.deepEqual(clock.pendingDueTimes().map((due) => due - clock.now()), [0], 'the requested sync follows at once');
  clock.advance(0);
  await until(() => outcomes.length === 4, 'the requested sync ran');
  assert.equal(fetches, 4);
  assert.equal((await store.get('Sliver', 'pl_a')).spec.timestamp, 4);

  await poller.close();
  assert.equal(clock.pendingTimers(), 0);
});
