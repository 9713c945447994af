// LimitReport pieces shared by the linux and vserver adapters.
import { RSPEC_KEYS, type RSpec, type RSpecKey } from '../../../schemas/types.js';
import type { BandwidthLimiter, LimitReport, UidSpan } from '../contract.js';

export const NET_KEYS = ['net_min', 'net_max', 'net2_min', 'net2_max', 'net_share'] as const satisfies readonly RSpecKey[];

export function appliedReport(keys: readonly RSpecKey[]): LimitReport {
  return { applied: [...keys], unsupported: [] };
}

export function unsupportedReport(keys: readonly RSpecKey[], reason: string): LimitReport {
  return { applied: [], unsupported: keys.map((resource) => ({ resource, reason })) };
}

/** Network limits through the bwlimit adapter, keyed by the account's uid (and `alsoUids`, a container's ids). */
export async function applyBandwidth(bandwidth: BandwidthLimiter | undefined, uid: number, rspec: RSpec, alsoUids?: UidSpan): Promise<LimitReport> {
  if (!bandwidth) return unsupportedReport(NET_KEYS, 'network limits not enforced: no bandwidth limiter is configured on this node');
  await bandwidth.set(uid, { net_min: rspec.net_min, net_max: rspec.net_max, net2_min: rspec.net2_min, net2_max: rspec.net2_max, net_share: rspec.net_share }, alsoUids);
  return appliedReport(NET_KEYS);
}

/** One report, keys in rspec order. */
export function mergeReports(parts: LimitReport[]): LimitReport {
  const order = (key: string) => RSPEC_KEYS.indexOf(key as RSpecKey);
  return {
    applied: parts.flatMap((part) => part.applied).sort((a, b) => order(a) - order(b)),
    unsupported: parts.flatMap((part) => part.unsupported).sort((a, b) => order(a.resource) - order(b.resource)),
  };
}
