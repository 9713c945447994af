// Pure rules of the reservations duty: which lease holds the node at an instant and when that
// next changes. Lease bounds are rounded to the lease granularity, as PLC's leases are aligned to
// it, so a bound a few seconds off (clock skew at PLC) does not make a sliver run for seconds.
import type { Lease } from '../schemas/types.js';

/** Rounding of lease bounds, in seconds; PLC aligns leases to its granularity (a multiple of this). */
export const LEASE_GRANULARITY_SECONDS = 60;

export interface LeaseState {
  /** The sliver holding the lease now (a lease naming no sliver of this node holds it for nobody). */
  holder?: string;
  /** Unix seconds the current lease ends. */
  until?: number;
  /** Unix seconds of the next lease boundary after now (a start or an end), if any. */
  nextBoundary?: number;
}

function rounded(seconds: number, granularity: number): number {
  return Math.round(seconds / granularity) * granularity;
}

/** The lease holding the node at `nowSeconds` (from inclusive, until exclusive) and the next boundary. */
export function leaseStateAt(leases: readonly Lease[], nowSeconds: number, granularity = LEASE_GRANULARITY_SECONDS): LeaseState {
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
