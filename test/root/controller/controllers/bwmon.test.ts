// The bwmon duty on real traffic: the controllers (SQLite store, sim node) drive the real HTB
// limiter in a network namespace; a sliver sending past its daily threshold is measured slower
// afterwards and back at full rate after the daily reset. A FakeClock stands for the day.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createBandwidthLimiter, type HtbBandwidthLimiter } from '../../../../adapters/net/bwlimit/index.js';
import { BWMON_PERIOD_MS } from '../../../../controller/controllers/bwmon.js';
import { SKIP_NETNS, createNetnsPair, type NetnsPair } from '../../../support/netns.js';
import { assertNear, transfer } from '../../../support/bwlimit-measure.js';
import { createSliver, FakeClock, removeTempDirs, startDaemon, type Daemon } from '../../../support/controllers-harness.js';

/** An hour before the daily reset. */
const MIDNIGHT = Date.UTC(2026, 11, 1);
const START = MIDNIGHT - 3_600_000;
const NET_MAX = 8_000_000;
const CAP = 2_000_000;
/** Past 2,000 kbyte; the daily volume leaves about CAP bit/s for the last hour (the few MB sent before shift it by well under 1 %). */
const ATTRIBUTES = { net_thresh_kbyte: '2000', net_max_kbyte: String(Math.round((CAP * 3600) / 8 / 1024)) };

let pair: NetnsPair;
let limiter: HtbBandwidthLimiter;
let daemon: Daemon;

before(async () => {
  if (SKIP_NETNS) return;
  pair = await createNetnsPair('bwmon');
  limiter = await createBandwidthLimiter({ device: pair.device, netns: pair.sender, nodeCap: 50_000_000 });
});
after(async () => {
  await daemon?.stop();
  await limiter?.close();
  await pair?.remove();
  removeTempDirs();
});

test('a sliver sending past its daily threshold is measured slower afterwards and at full rate after the reset', { skip: SKIP_NETNS, timeout: 60_000 }, async () => {
  const clock = new FakeClock(START);
  daemon = await startDaemon({ clock, bandwidth: limiter, enforceBandwidth: true });
  await createSliver(daemon.store, 'site_heavy', { rspec: { net_max: NET_MAX }, attributes: ATTRIBUTES });
  await daemon.settle();
  const uid = (await daemon.store.get('Sliver', 'site_heavy')).status!.xid!;

  assertNear(await transfer(pair, uid, pair.receiverAddress), NET_MAX, 'before the threshold (net_max 8 Mbit/s)');
  // The first reading was taken when the sliver got its classes; the next one sees the transfer.
  clock.advance(BWMON_PERIOD_MS);
  await daemon.settle();
  const capped = (await daemon.store.get('Sliver', 'site_heavy')).status?.dailyBandwidth;
  assert.ok(capped?.netMaxCap !== undefined && capped.sentBytes > 2000 * 1024, `capped after ${capped?.sentBytes} bytes`);
  assertNear(capped.netMaxCap, CAP, 'the cap rate');
  assertNear(await transfer(pair, uid, pair.receiverAddress), capped.netMaxCap, 'after the threshold');

  clock.advance(MIDNIGHT - clock.now());
  await daemon.settle();
  assert.equal((await daemon.store.get('Sliver', 'site_heavy')).status?.dailyBandwidth?.netMaxCap, undefined);
  assertNear(await transfer(pair, uid, pair.receiverAddress), NET_MAX, 'after the daily reset');
});
