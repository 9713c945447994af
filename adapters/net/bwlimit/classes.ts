// The HTB tree's shape, pure: which classid a sliver's uid gets, and what each class's parameters
// are for given limits. No OS calls here; tc.ts and nft.ts turn these into commands.
import { InvalidError } from '../../../resources/errors.js';
import type { BandwidthLimits } from '../../node/contract.js';

/** The HTB qdisc's major number: every classid is `1:MINOR` (minors in hex, as tc writes them). */
export const QDISC_MAJOR = 1;
/** Parent of every class that counts against the node cap. */
export const NODE_CAP_MINOR = 0x1;
/** Unclassified traffic (root, unmanaged uids, packets without a socket). */
export const DEFAULT_MINOR = 0x2;
/** Parent of the exempt-destination classes (its own cap, not counted against the node cap). */
export const EXEMPT_CAP_MINOR = 0x3;
/** The first sliver minor; 0x4..0xF are kept free for future tree classes. */
const FIRST_SLIVER_MINOR = 0x10;
/** A sliver's exempt class is its class with this bit set. */
const EXEMPT_BIT = 0x8000;
/** How many consecutive uids (from `firstUid`) can have classes: minors 0x10..0x7FFF. */
export const UID_CAPACITY = EXEMPT_BIT - FIRST_SLIVER_MINOR;

/** HTB quantum per unit of net_share: one full Ethernet frame, so a share of 1 still sends whole packets. */
export const QUANTUM_PER_SHARE = 1514;
/** The largest quantum HTB takes without complaint; shares above MAX_QUANTUM / QUANTUM_PER_SHARE (132) weigh the same. */
export const MAX_QUANTUM = 200_000;
/** tc keeps rates in bytes per second: anything below 8 bit/s (including 0) is raised to it. */
export const MIN_RATE_BYTES = 1;

/** One HTB class as the limiter wants it (rates in bytes per second, tc's own unit). */
export interface ClassSpec {
  minor: number;
  parentMinor: number | undefined;
  rateBytes: number;
  ceilBytes: number;
  quantum: number;
}

/** A sliver's class minor: `0x10 + (uid - firstUid)`; uids outside the mapped range are refused. */
export function sliverMinor(uid: number, firstUid: number): number {
  const offset = uid - firstUid;
  if (!Number.isSafeInteger(uid) || offset < 0 || offset >= UID_CAPACITY) {
    throw new InvalidError(`uid ${uid} cannot have bandwidth classes: expected an integer from ${firstUid} to ${firstUid + UID_CAPACITY - 1}`, [
      { field: 'uid', message: `must be an integer in [${firstUid}, ${firstUid + UID_CAPACITY - 1}]` },
    ]);
  }
  return FIRST_SLIVER_MINOR + offset;
}

export function exemptMinor(minor: number): number {
  return minor | EXEMPT_BIT;
}

/** Which sliver class a minor is (the inverse of sliverMinor/exemptMinor); undefined for tree minors. */
export function sliverOfMinor(minor: number, firstUid: number): { uid: number; exempt: boolean } | undefined {
  const base = minor & ~EXEMPT_BIT;
  if (base < FIRST_SLIVER_MINOR || minor > 0xffff) return undefined;
  return { uid: firstUid + (base - FIRST_SLIVER_MINOR), exempt: (minor & EXEMPT_BIT) !== 0 };
}

/** `1:1f`: the classid as tc and nft write it. */
export function classid(minor: number): string {
  return `${QDISC_MAJOR}:${minor.toString(16)}`;
}

export function rateBytes(bitsPerSecond: number): number {
  return Math.max(MIN_RATE_BYTES, Math.floor(bitsPerSecond / 8));
}

export function quantumFor(share: number): number {
  return Math.min(MAX_QUANTUM, share * QUANTUM_PER_SHARE);
}

/** The node's fixed classes: node cap, default, exempt cap. */
export function treeClasses(nodeCap: number, exemptCap: number): ClassSpec[] {
  const quantum = quantumFor(1);
  return [
    { minor: NODE_CAP_MINOR, parentMinor: undefined, rateBytes: rateBytes(nodeCap), ceilBytes: rateBytes(nodeCap), quantum },
    { minor: DEFAULT_MINOR, parentMinor: NODE_CAP_MINOR, rateBytes: MIN_RATE_BYTES, ceilBytes: rateBytes(nodeCap), quantum },
    { minor: EXEMPT_CAP_MINOR, parentMinor: undefined, rateBytes: rateBytes(exemptCap), ceilBytes: rateBytes(exemptCap), quantum },
  ];
}

/** A sliver's two classes: its share of the node cap, and its share of the exempt cap. */
export function sliverClasses(minor: number, limits: BandwidthLimits): [ClassSpec, ClassSpec] {
  const quantum = quantumFor(limits.net_share);
  return [
    { minor, parentMinor: NODE_CAP_MINOR, rateBytes: rateBytes(limits.net_min), ceilBytes: rateBytes(limits.net_max), quantum },
    { minor: exemptMinor(minor), parentMinor: EXEMPT_CAP_MINOR, rateBytes: rateBytes(limits.net2_min), ceilBytes: rateBytes(limits.net2_max), quantum },
  ];
}

const LIMIT_KEYS = ['net_min', 'net_max', 'net2_min', 'net2_max', 'net_share'] as const;

/** Throws an InvalidError naming every bad field; returns a clean copy (extra keys dropped). */
export function validateLimits(uid: number, limits: BandwidthLimits): BandwidthLimits {
  const causes: Array<{ field: string; message: string }> = [];
  for (const key of LIMIT_KEYS) {
    const value: unknown = limits?.[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) causes.push({ field: key, message: `${key} must be a non-negative integer, got ${JSON.stringify(value)}` });
  }
  if (!causes.length) {
    if (limits.net_min > limits.net_max) causes.push({ field: 'net_min', message: `net_min (${limits.net_min}) exceeds net_max (${limits.net_max})` });
    if (limits.net2_min > limits.net2_max) causes.push({ field: 'net2_min', message: `net2_min (${limits.net2_min}) exceeds net2_max (${limits.net2_max})` });
    if (limits.net_share < 1) causes.push({ field: 'net_share', message: 'net_share must be at least 1' });
  }
  if (causes.length) throw new InvalidError(`invalid bandwidth limits for uid ${uid}: ${causes.map((c) => c.message).join('; ')}`, causes);
  return { net_min: limits.net_min, net_max: limits.net_max, net2_min: limits.net2_min, net2_max: limits.net2_max, net_share: limits.net_share };
}
