// bwlimit figures on a real HTB tree in a network namespace (root only): applying limits to 1,000
// slivers at once (group-committed: one tc -batch and one nft script), re-applying them unchanged
// (no process at all), changing every ceiling, a restart reconciling from tc, and removing them all.
import { performance } from 'node:perf_hooks';
import { createBandwidthLimiter, type HtbBandwidthLimiter } from '../adapters/net/bwlimit/index.js';
import type { BandwidthLimits } from '../adapters/node/contract.js';
import { SKIP_NETNS, createNetnsPair } from '../test/support/netns.js';
import { report } from './report.js';

const BENCH = 'bwlimit';
const SLIVERS = 1000;
const uids = Array.from({ length: SLIVERS }, (_, i) => 1001 + i);
const limits = (net_max: number): BandwidthLimits => ({ net_min: 8, net_max, net2_min: 8, net2_max: net_max, net_share: 1 });

async function timed(limiter: HtbBandwidthLimiter, metric: string, work: () => Promise<unknown>, extra: Record<string, unknown> = {}): Promise<void> {
  const before = { ...limiter.counts };
  const start = performance.now();
  await work();
  const elapsed = performance.now() - start;
  report(BENCH, metric, elapsed, 'ms', { slivers: SLIVERS, tc_batches: limiter.counts.tcBatches - before.tcBatches, nft_scripts: limiter.counts.nftScripts - before.nftScripts, ...extra });
}

if (SKIP_NETNS) {
  process.stderr.write(`bwlimit bench skipped: ${SKIP_NETNS}\n`);
} else {
  const pair = await createNetnsPair('bench');
  try {
    const options = { device: pair.device, netns: pair.sender, nodeCap: 1_000_000_000, exemptDestinations: [pair.exemptCidr] };
    const limiter = await createBandwidthLimiter(options);
    await timed(limiter, 'apply_1000_slivers', () => Promise.all(uids.map((uid) => limiter.set(uid, limits(1_000_000 + uid)))), { aim: 'one tc -batch, one nft script' });
    await timed(limiter, 'reapply_1000_unchanged', () => Promise.all(uids.map((uid) => limiter.set(uid, limits(1_000_000 + uid)))), { aim: 'no process' });
    await timed(limiter, 'change_1000_ceilings', () => Promise.all(uids.map((uid) => limiter.set(uid, limits(2_000_000 + uid)))));
    const start = performance.now();
    const restarted = await createBandwidthLimiter(options);
    report(BENCH, 'restart_reconcile_1000_slivers', performance.now() - start, 'ms', {
      slivers: (await restarted.list()).length,
      tc_batches: restarted.counts.tcBatches,
      nft_scripts: restarted.counts.nftScripts,
    });
    await timed(restarted, 'remove_1000_slivers', () => Promise.all(uids.map((uid) => restarted.remove(uid))));
    await Promise.all([limiter.close(), restarted.close()]);
  } finally {
    await pair.remove();
  }
}
