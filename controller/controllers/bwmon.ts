// The bwmon duty (the old node manager's bwmon): each sliver's bytes sent today, read from its HTB
// class counters, kept in status.dailyBandwidth (so a daemon restart goes on counting where it
// was). Past net_thresh_kbyte (net_i2_thresh_kbyte towards exempt destinations) the sliver's
// maximum rate drops to what spreads the rest of its daily volume over the rest of the day; the
// rspec controller folds that cap into the effective rspec and the account controller applies it.
// At the daily reset (UTC midnight) the count restarts and the caps go. A Warning Event and a
// metric say when a sliver is capped, where the old bwmon sent mail.
import { Counter, Gauge, type Registry } from '../../adapters/support/prometheus.js';
import { jsonEqual } from '../../resources/equal.js';
import { dailyVolumes, nextDailyBandwidth, nextReset } from '../../resources/daily-bandwidth.js';
import { fullRSpec } from '../../resources/rspec.js';
import type { BandwidthLimiter } from '../../adapters/node/contract.js';
import type { DailyBandwidth, Sliver } from '../../schemas/types.js';
import { changedBy } from '../runtime/predicates.js';
import type { ReconcileContext, Reconciler } from '../runtime/types.js';
import { writeStatus } from './status.js';

/** The one key: one counter reading serves every sliver. */
export const BWMON_KEY = 'bwmon';
/** How often the counters are read (the old node manager looked every few minutes too). */
export const BWMON_PERIOD_MS = 60_000;

/** What bwmon reads from a sliver: its uid and its tags. */
const inputsChanged = changedBy((object) => {
  const sliver = object as Sliver;
  return [sliver.status?.xid, sliver.spec.attributes, sliver.metadata.deletionTimestamp];
});

export interface BandwidthMonitorOptions {
  bandwidth: BandwidthLimiter;
  registry: Registry;
  periodMs?: number;
}

function formatRate(bitsPerSecond: number): string {
  return bitsPerSecond >= 1_000_000 ? `${(bitsPerSecond / 1_000_000).toFixed(2)} Mbit/s` : `${(bitsPerSecond / 1000).toFixed(1)} kbit/s`;
}

export function createBandwidthMonitorController({ bandwidth, registry, periodMs = BWMON_PERIOD_MS }: BandwidthMonitorOptions): Reconciler {
  const caps = new Counter({ name: 'slv_bwmon_caps_total', help: 'Daily bandwidth caps set, by traffic class', labelNames: ['class'] as const, registers: [registry] });
  const capped = new Gauge({ name: 'slv_bwmon_capped_slivers', help: 'Slivers whose rate is capped until the daily reset', registers: [registry] });
  const sent = new Counter({ name: 'slv_bwmon_sent_bytes_total', help: 'Bytes sent by slivers as bwmon counted them, by traffic class', labelNames: ['class'] as const, registers: [registry] });

  function report(sliver: Sliver, before: DailyBandwidth | undefined, after: DailyBandwidth, context: ReconcileContext): void {
    if (before?.day === after.day) {
      sent.inc({ class: 'normal' }, after.sentBytes - before.sentBytes);
      sent.inc({ class: 'exempt' }, after.sentExemptBytes - before.sentExemptBytes);
    } else if (before?.netMaxCap !== undefined || before?.net2MaxCap !== undefined) {
      context.events.normal(sliver, 'BandwidthCapLifted', `daily reset: the caps of ${before.day} are lifted, counting starts again`);
    }
    const newly: Array<[string, number, number]> = [];
    if (after.netMaxCap !== undefined && (before?.day !== after.day || before.netMaxCap === undefined)) newly.push(['normal', after.netMaxCap, after.sentBytes]);
    if (after.net2MaxCap !== undefined && (before?.day !== after.day || before.net2MaxCap === undefined)) newly.push(['exempt', after.net2MaxCap, after.sentExemptBytes]);
    for (const [trafficClass, rate, bytes] of newly) {
      caps.inc({ class: trafficClass });
      context.events.warning(
        sliver,
        'BandwidthCapped',
        `sent ${bytes} bytes to ${trafficClass} destinations today, past its daily threshold: its maximum rate is capped at ${formatRate(rate)} until ${after.resetAt}`,
      );
    }
  }

  return {
    name: 'bwmon',
    watches: ['Sliver'],
    keysFor: (event) => (event.resync || inputsChanged(event) ? [BWMON_KEY] : []),
    async reconcile(key, context) {
      if (key !== BWMON_KEY) return;
      const counters = await bandwidth.sentBytes();
      const nowMs = context.clock.now();
      let cappedNow = 0;
      for (const sliver of context.cache.list('Sliver')) {
        const uid = sliver.status?.xid;
        const reading = uid === undefined ? undefined : counters.get(uid);
        // No classes yet (or no more): nothing to count.
        if (sliver.metadata.deletionTimestamp !== undefined || !reading) continue;
        const before = sliver.status?.dailyBandwidth;
        const volumes = dailyVolumes(sliver.spec.attributes);
        const after = nextDailyBandwidth(before, reading, volumes, sliver.status?.effectiveRSpec ?? fullRSpec(sliver.spec.rspec), nowMs);
        if (after.netMaxCap !== undefined || after.net2MaxCap !== undefined) cappedNow++;
        if (jsonEqual(before, after)) continue;
        await writeStatus<'Sliver'>(context.store, sliver, (status) => ({ ...status, dailyBandwidth: after }));
        report(sliver, before, after, context);
      }
      capped.set(cappedNow);
      // The next reading, or the reset itself if it comes first.
      return { requeueAfter: Math.min(periodMs, nextReset(nowMs) - nowMs) };
    },
  };
}
