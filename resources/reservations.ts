// Pure rules of the reservations duty: which lease holds the node at an instant and when that
// next changes. Lease bounds are rounded to PLC's lease granularity (`lease_granularity` of its
// answer), as PLC aligns leases to it, so a bound a few seconds off (clock skew at PLC) does not
// make a sliver run for seconds.
import type { Lease, RSpec } from '../schemas/types.js';

/** The granularity when PLC sends none (an older PLC), as today's node manager assumes: an hour. */
export const DEFAULT_LEASE_GRANULARITY_SECONDS = 3600;

/**
 * With lease_or_shared, the CPU guarantee (cpu_min, thousandths of a CPU) the lease holder gets
 * at least: one whole CPU, the unit today's core scheduler reserves.
 */
export const LEASE_CPU_MIN = 1000;

export interface LeaseState {
  /** The sliver holding the lease now (a lease naming no sliver of this node holds it for nobody). */
  holder?: string;
  /** Unix seconds the current lease ends. */
  until?: number;
  /** Unix seconds of the next lease boundary after now (a start or an end), if any. */
  nextBoundary?: number;
}

/** To the nearest multiple of the granularity, halves up (as the node manager rounds). */
function rounded(seconds: number, granularity: number): number {
  return Math.floor((seconds + granularity / 2) / granularity) * granularity;
}

/** The lease holding the node at `nowSeconds` (from inclusive, until exclusive) and the next boundary. */
export function leaseStateAt(leases: readonly Lease[], nowSeconds: number, granularity: number): LeaseState {
  const bounded = leases.map((lease) => ({ sliver: lease.sliver, from: rounded(lease.from, granularity), until: rounded(lease.until, granularity) })).filter((lease) => lease.until > lease.from);
  const current = bounded.filter((lease) => lease.from <= nowSeconds && nowSeconds < lease.until).sort((a, b) => a.from - b.from)[0];
  const boundaries = bounded.flatMap((lease) => [lease.from, lease.until]).filter((bound) => bound > nowSeconds);
  const nextBoundary = boundaries.length > 0 ? Math.min(...boundaries) : undefined;
  return {
    ...(current?.sliver !== undefined ? { holder: current.sliver } : {}),
    ...(current ? { until: current.until } : {}),
    ...(nextBoundary !== undefined ? { nextBoundary } : {}),
  };
}

/** The rspec with the lease's CPU guarantee: cpu_min raised to `leaseCpuMin`, never lowered. */
export function withLeaseGuarantee(rspec: RSpec, leaseCpuMin: number | undefined): RSpec {
  return leaseCpuMin === undefined || rspec.cpu_min >= leaseCpuMin ? rspec : { ...rspec, cpu_min: leaseCpuMin };
}
