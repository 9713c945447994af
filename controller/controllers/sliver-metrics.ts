// Gauges of the slivers as the controllers see them, computed from the informer cache when
// /metrics is scraped (nothing to keep current between scrapes): how many slivers per STATUS word
// and Ready status, each sliver's Ready, and each sliver's effective rspec.
import { Gauge, type Registry } from '../../adapters/support/prometheus.js';
import { condition } from '../../resources/columns.js';
import { fullRSpec } from '../../resources/rspec.js';
import { sliverStatusWord } from '../../resources/sliver-status.js';
import { RSPEC_KEYS } from '../../schemas/types.js';
import type { Cache } from '../runtime/types.js';

/** Registers the sliver gauges in `registry`, read from `cache` at each scrape. */
export function registerSliverMetrics(registry: Registry, cache: Cache): void {
  // A new cache (a daemon that opened its store again) replaces the gauges of the old one.
  for (const name of ['slv_slivers', 'slv_sliver_ready', 'slv_sliver_effective_rspec']) registry.removeSingleMetric(name);
  const slivers = () => cache.list('Sliver');
  new Gauge({
    name: 'slv_slivers',
    help: 'Slivers by STATUS (Running, Stopped, InitFailed, LimitsNotEnforced, ...: docs/cli.md) and Ready condition status',
    labelNames: ['status', 'ready'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const sliver of slivers()) this.inc({ status: sliverStatusWord(sliver, now), ready: condition(sliver.status?.conditions, 'Ready')?.status ?? 'Unknown' });
    },
  });
  new Gauge({
    name: 'slv_sliver_ready',
    help: "1 while the sliver's Ready condition is True, else 0",
    labelNames: ['sliver'],
    registers: [registry],
    collect() {
      this.reset();
      for (const sliver of slivers()) this.set({ sliver: sliver.metadata.name }, condition(sliver.status?.conditions, 'Ready')?.status === 'True' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'slv_sliver_effective_rspec',
    help: "The sliver's effective rspec (its own plus loans) by resource: cpu_share and cpu_min in shares, net rates in bit/s, disk_max in KiB",
    labelNames: ['sliver', 'resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const sliver of slivers()) {
        const rspec = sliver.status?.effectiveRSpec ?? fullRSpec(sliver.spec.rspec);
        for (const resource of RSPEC_KEYS) this.set({ sliver: sliver.metadata.name, resource }, rspec[resource]);
      }
    },
  });
}
