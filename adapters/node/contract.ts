// The node-adapter interface: everything the controllers may do to a node. The sim, linux and
// vserver adapters implement it and pass the same contract suite (test/support/node-adapter-contract.ts).
// Every method is idempotent: calling it again with the same arguments changes nothing.
import type { RSpec } from '../../schemas/types.js';

/** Account classes, recognised on the node by their managed login shell (docs/behaviour.md §5). */
export type AccountClass = 'sliver' | 'delegate';

export interface AccountInfo {
  name: string;
  /** The account's uid (the VServer context id, the sliver's xid). */
  uid: number;
  class: AccountClass;
  /** Sliver type that created it (e.g. `sliver.VServer`), where the adapter can tell. */
  type?: string;
}

/** What applyLimits could and could not enforce, so status can say so. */
export interface LimitReport {
  /** rspec keys that are now enforced on the node. */
  applied: string[];
  /** Keys the node cannot enforce, each with a reason a user can act on. */
  unsupported: Array<{ resource: string; reason: string }>;
}

export interface NodeAdapter {
  /** `sim`, `linux` or `vserver`. */
  readonly kind: string;
  /** Accounts that have a managed shell (slivers and delegates); other accounts are not listed. */
  listAccounts(): Promise<AccountInfo[]>;
  getAccount(name: string): Promise<AccountInfo | undefined>;
  /** Any account's name by uid (root and unmanaged accounts too): caller identity for the APIs. */
  accountNameByUid(uid: number): Promise<string | undefined>;
  /**
   * Create the account with its class's shell; an existing account of the same class is returned as is.
   * `vref` names the sliver's reference image (PLC's tag): container adapters build its root
   * filesystem from it (a missing image is a MissingImageError), the others ignore it.
   */
  createAccount(name: string, accountClass: AccountClass, type?: string, vref?: string): Promise<AccountInfo>;
  /** Stop everything of the account and remove it; absent accounts are fine. */
  destroyAccount(name: string): Promise<void>;
  /** Write `~/.ssh/authorized_keys` (one key per line) as the account's user. */
  setKeys(name: string, keys: string[]): Promise<void>;
  /** Install the init script (`/etc/rc.vinit` in the sliver, mode 0755); empty removes it. */
  setInitscript(name: string, script: string): Promise<void>;
  /** Run the sliver's start scripts (its init script); starting a running sliver is a no-op. */
  start(name: string): Promise<void>;
  /** Kill every process of the sliver. */
  stop(name: string): Promise<void>;
  isRunning(name: string): Promise<boolean>;
  /**
   * Apply the effective rspec: CPU (guarantee cpu_min if >= 50, else cpu_share), disk quota, network
   * limits; `enabled: 0` means CPU 0 and remote login disabled.
   */
  applyLimits(name: string, rspec: RSpec): Promise<LimitReport>;
  /** Whole-core scheduling (cpu_cores), on a node that can pin slivers to CPUs; absent where it cannot. */
  readonly cpuPinning?: CpuPinning;
  /** Release resources held by the adapter (files, timers). */
  close(): Promise<void>;
}

/** Pinning slivers to CPUs (a cpuset per sliver). */
export interface CpuPinning {
  /** The CPUs slivers can be given. */
  available(): Promise<number[]>;
  /** Run the sliver's processes on these CPUs only (those running now, and those it starts). */
  pin(name: string, cpus: readonly number[]): Promise<void>;
}

/** Per-sliver bandwidth limits, from the effective rspec. */
export interface BandwidthLimits {
  net_min: number;
  net_max: number;
  net2_min: number;
  net2_max: number;
  net_share: number;
}

/** Consecutive uids, `first` to `first + count - 1`. */
export interface UidSpan {
  first: number;
  count: number;
}

/** The bwlimit adapter (HTB with tc): classes keyed by the sliver's uid. */
/** A sliver's sent-bytes counters: through its class under the node cap, and through its exempt class. */
export interface SentBytes {
  bytes: number;
  exemptBytes: number;
}

export interface BandwidthLimiter {
  /**
   * Set (or change) the classes of one sliver; concurrent calls may be coalesced into one batch.
   * Traffic of `alsoUids` (a container's id range) is classified as the sliver's own.
   */
  set(uid: number, limits: BandwidthLimits, alsoUids?: UidSpan): Promise<void>;
  /** Remove the sliver's classes and classification rules. */
  remove(uid: number): Promise<void>;
  /** The uids that currently have classes. */
  list(): Promise<number[]>;
  /** Bytes each sliver's classes have sent since they were made, by uid (what bwmon counts a day from). */
  sentBytes(): Promise<Map<number, SentBytes>>;
  /** The node cap in bit/s that PLC sets (its primary interface's bwlimit); undefined = back to the configured cap. */
  setNodeCap(bitsPerSecond: number | undefined): Promise<void>;
  close(): Promise<void>;
}
