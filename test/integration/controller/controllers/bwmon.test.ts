// The bwmon duty through the real runtime, SQLite store and sim node, with a FakeClock and counters
// set as the kernel would show them: a sliver past its daily threshold gets a capped net_max (status,
// Warning Event, effective rspec, the node), the count survives a daemon restart and a class made
// anew, and the daily reset lifts the cap.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/index.js';
import { BWMON_PERIOD_MS } from '../../../../controller/controllers/bwmon.js';
import { RecordingBandwidthLimiter } from '../../../support/test-roots.js';
import { createSliver, removeTempDirs, startDaemon, tempDir, TEST_TIMEOUT, type Daemon } from '../../../support/controllers-harness.js';

after(removeTempDirs);

const NOON = Date.UTC(2026, 10, 30, 12, 0, 0);
const MIDNIGHT = Date.UTC(2026, 11, 1);
/** 1 Mbit/s spread over the 12 hours left at noon, once the 1,000 kbyte threshold is passed. */
const ATTRIBUTES = { net_max_kbyte: String(Math.round((43_200 * 1_000_000) / 8 / 1024) + 1000), net_thresh_kbyte: '1000' };
const NET_MAX = 10_000_000;

async function daily(daemon: Daemon, name: string) {
  return (await daemon.store.get('Sliver', name)).status?.dailyBandwidth;
}

async function warnings(daemon: Daemon, reason: string): Promise<string[]> {
  return (await daemon.store.list('Event')).items.filter((event) => event.spec.reason === reason).map((event) => `${event.spec.involvedObject.name}: ${event.spec.message}`);
}

test('past its daily threshold a sliver is capped until the reset; counts survive a restart and a class made anew', TEST_TIMEOUT, async (t) => {
  const dir = tempDir();
  const clock = new FakeClock(NOON);
  const bandwidth = new RecordingBandwidthLimiter();
  let daemon = await startDaemon({ dir, clock, bandwidth });
  t.after(() => daemon.stop());
  await createSliver(daemon.store, 'site_busy', { attributes: ATTRIBUTES, rspec: { net_max: NET_MAX } });
  await createSliver(daemon.store, 'site_quiet', { attributes: ATTRIBUTES, rspec: { net_max: NET_MAX } });
  await daemon.settle();
  const busy = (await daemon.store.get('Sliver', 'site_busy')).status!.xid!;
  const quiet = (await daemon.store.get('Sliver', 'site_quiet')).status!.xid!;
  bandwidth.sent.set(busy, { bytes: 7_000_000, exemptBytes: 0 });
  bandwidth.sent.set(quiet, { bytes: 100, exemptBytes: 0 });

  clock.advance(BWMON_PERIOD_MS);
  await daemon.settle();
  assert.equal((await daily(daemon, 'site_busy'))?.sentBytes, 0, 'the first reading starts the day at 0');

  bandwidth.sent.set(busy, { bytes: 7_600_000, exemptBytes: 0 });
  clock.advance(BWMON_PERIOD_MS);
  await daemon.settle();
  assert.equal((await daily(daemon, 'site_busy'))?.sentBytes, 600_000);
  assert.equal((await daily(daemon, 'site_busy'))?.netMaxCap, undefined, 'under the threshold');

  // A restart: the count goes on from the stored reading; then tc makes the class anew (counter from 0).
  await daemon.stop();
  daemon = await startDaemon({ dir, clock, bandwidth });
  bandwidth.sent.set(busy, { bytes: 500_000, exemptBytes: 0 });
  clock.advance(BWMON_PERIOD_MS);
  await daemon.settle();
  const capped = await daily(daemon, 'site_busy');
  assert.equal(capped?.sentBytes, 1_100_000, '600,000 before the restart, 500,000 since the class was made anew');
  assert.ok(capped?.netMaxCap !== undefined && Math.abs(capped.netMaxCap - 1_000_000) < 10_000, `capped at about 1 Mbit/s, got ${capped?.netMaxCap}`);
  assert.equal(capped?.resetAt, '2026-12-01T00:00:00Z');
  assert.equal((await daemon.store.get('Sliver', 'site_busy')).status?.effectiveRSpec?.net_max, capped.netMaxCap, 'the cap is in the effective rspec');
  assert.equal(daemon.node.inspect('site_busy')?.limits?.net_max, capped.netMaxCap, 'and applied to the node');
  assert.equal(daemon.node.inspect('site_quiet')?.limits?.net_max, NET_MAX, 'the quiet sliver keeps its rate');
  assert.deepEqual(
    (await warnings(daemon, 'BandwidthCapped')).map((w) => w.replace(/capped at .* until/, 'capped at R until')),
    ['site_busy: sent 1100000 bytes to normal destinations today, past its daily threshold: its maximum rate is capped at R until 2026-12-01T00:00:00Z'],
  );
  assert.match(await daemon.manager.registry.metrics(), /slv_bwmon_capped_slivers 1\b/);

  // Still capped an hour later with more traffic (the cap does not creep), then lifted at the reset.
  bandwidth.sent.set(busy, { bytes: 2_000_000, exemptBytes: 0 });
  clock.advance(3_600_000);
  await daemon.settle();
  assert.equal((await daily(daemon, 'site_busy'))?.netMaxCap, capped.netMaxCap);
  clock.advance(MIDNIGHT - 30_000 - clock.now());
  await daemon.settle();
  assert.ok(clock.pendingDueTimes().includes(MIDNIGHT), 'half a period before the reset, the next wake-up is the reset instant');

  clock.advance(30_000);
  await daemon.settle();
  const reset = await daily(daemon, 'site_busy');
  assert.deepEqual({ day: reset?.day, sent: reset?.sentBytes, cap: reset?.netMaxCap }, { day: '2026-12-01', sent: 0, cap: undefined });
  assert.equal(daemon.node.inspect('site_busy')?.limits?.net_max, NET_MAX, 'full rate again after the reset');
  assert.equal((await warnings(daemon, 'BandwidthCapLifted')).length, 1);
});

test('--controllers without bwmon: nothing is counted or capped', TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock(NOON);
  const bandwidth = new RecordingBandwidthLimiter();
  const daemon = await startDaemon({ clock, bandwidth, without: ['bwmon'] });
  t.after(() => daemon.stop());
  await createSliver(daemon.store, 'site_busy', { attributes: { net_thresh_kbyte: '1' } });
  await daemon.settle();
  bandwidth.sent.set((await daemon.store.get('Sliver', 'site_busy')).status!.xid!, { bytes: 1e9, exemptBytes: 0 });
  clock.advance(2 * BWMON_PERIOD_MS);
  await daemon.settle();
  assert.equal(await daily(daemon, 'site_busy'), undefined);
});
