// The resource kinds of slv (apiVersion nm.planet-lab.org/v1). Pure data: no I/O here.
// schemas/ holds one JSON Schema per kind, typed against these interfaces so the two cannot drift.

export const API_GROUP = 'nm.planet-lab.org';
export const API_VERSION = `${API_GROUP}/v1` as const;

export const KINDS = ['Sliver', 'Delegate', 'Loan', 'Event', 'NodeConfig'] as const;
export type Kind = (typeof KINDS)[number];

/** The kinds of the `all` category (`get all`), as kubectl's: what users work with, not Events or node configuration. */
export const CATEGORY_ALL: readonly Kind[] = ['Sliver', 'Delegate', 'Loan'];

/** Who owns an object's spec. PLC-owned objects are rewritten and purged by the PLC source. */
export const MANAGED_BY_LABEL = `${API_GROUP}/managed-by`;
export const MANAGED_BY_PLC = 'plc';
/**
 * Held by every Sliver and Delegate until its account is gone (the account controller removes it).
 * The PLC source creates objects with it, which saves each new sliver a metadata write.
 */
export const ACCOUNT_FINALIZER = `${API_GROUP}/account`;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  /** JSON pointers (RFC 6901) of the leaf fields this manager set. */
  fields: string[];
  time?: string;
}

export interface ObjectMeta {
  name: string;
  /** In a fleet (etcd): the node the object belongs to. Absent in a node's own store. */
  namespace?: string;
  uid?: string;
  /** Opaque to clients: the store revision at which the object last changed. */
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: ManagedFieldsEntry[];
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  /** Changes only when `status` flips. */
  lastTransitionTime: string;
  observedGeneration?: number;
}

// ---- rspec (docs/behaviour.md §2) -------------------------------------------------------------------

export const RSPEC_KEYS = ['enabled', 'cpu_min', 'cpu_share', 'net_min', 'net_max', 'net2_min', 'net2_max', 'net_share', 'disk_max'] as const;
export type RSpecKey = (typeof RSPEC_KEYS)[number];

export interface IntegerRange {
  minimum: number;
  maximum: number;
}

/**
 * The values a sliver's rspec may hold (docs/api.md "Ranges"), from the original's meaning of each
 * key and the kernel limits they end in; refused at admission and in PLC records, so none reaches
 * the kernel. Effective values (with loans) may exceed them; adapters clamp to what the kernel takes.
 */
export const RSPEC_RANGES: Readonly<Record<RSpecKey, IntegerRange>> = {
  /** A flag: 0 disabled, 1 enabled. */
  enabled: { minimum: 0, maximum: 1 },
  /** 1/1000 of a CPU: at most every CPU a Linux kernel can have (NR_CPUS 8192). */
  cpu_min: { minimum: 0, maximum: 8_192_000 },
  /** A weight: 8192 × 32 = 262,144, the largest cgroup v1 cpu.shares; larger shares cannot differ. */
  cpu_share: { minimum: 0, maximum: 8192 },
  /** bit/s: 1 Tbit/s, above any interface, keeps HTB's 64-bit byte rates and sums of loans exact. */
  net_min: { minimum: 0, maximum: 1_000_000_000_000 },
  net_max: { minimum: 0, maximum: 1_000_000_000_000 },
  net2_min: { minimum: 0, maximum: 1_000_000_000_000 },
  net2_max: { minimum: 0, maximum: 1_000_000_000_000 },
  /** A share: each unit is one 1514-byte HTB quantum, and the quantum is 32 bits; 0 would send nothing. */
  net_share: { minimum: 1, maximum: 2_836_834 },
  /** KiB: 2^50 KiB is 1 EiB, ext4's largest filesystem; 0 is refused, the quota tools read it as "no limit". */
  disk_max: { minimum: 1, maximum: 2 ** 50 },
};

/** Unix seconds: up to 9999-12-31T23:59:59Z, the last time an RFC 3339 timestamp can write. */
export const EXPIRES_RANGE: Readonly<IntegerRange> = { minimum: 0, maximum: 253_402_300_799 };
/** A complete rspec: every key present. */
export type RSpec = Record<RSpecKey, number>;
/** An rspec as written in a spec: missing keys take their defaults. */
export type PartialRSpec = Partial<RSpec>;

export const LOANABLE_RESOURCES = ['cpu_min', 'cpu_share', 'net2_max', 'net2_min', 'net_max', 'net_min', 'net_share'] as const;
export type LoanableResource = (typeof LOANABLE_RESOURCES)[number];

// ---- Sliver ---------------------------------------------------------------------------------

export const INSTANTIATIONS = ['plc-instantiated', 'delegated', 'nm-controller'] as const;
export type Instantiation = (typeof INSTANTIATIONS)[number];

export interface Delegation {
  /** The account allowed to act on this sliver. */
  account: string;
  /** API methods it may call; absent = all. */
  methods?: string[];
}

/** User-owned desired run state: PLC updates never overwrite it. */
export interface RunSpec {
  /** Desired state; absent = Running (a sliver runs once its account exists). */
  state?: 'Running' | 'Stopped';
  /** For `delegated` slivers: the account was requested by API Create (true) or Destroy (false). */
  instantiated?: boolean;
  /** Bumped by ReCreate; the account controller recreates when it exceeds status.recreated. */
  recreate?: number;
  /**
   * Bumped by Start; the account controller starts the sliver (when it should run) once it exceeds
   * status.startsHandled, even if `state` already says Running (e.g. after a node reboot).
   */
  start?: number;
}

export interface SliverSpec {
  /** Account class, e.g. `sliver.VServer`. */
  type: string;
  instantiation: Instantiation;
  /** ssh public keys, one per entry. */
  keys: string[];
  initscript: string;
  rspec: PartialRSpec;
  /** Unix seconds; the sliver is deleted once `expires < now`. */
  expires?: number;
  delegations: Delegation[];
  /** PLC record timestamp (unix seconds); 0 for objects PLC never sent. */
  timestamp: number;
  /** Raw PLC attributes (tags) by name. */
  attributes: Record<string, string>;
  /** PLC record fields slv does not interpret, kept as sent. */
  extra?: Record<string, unknown>;
  /** The reference image PLC names (`vref` tag), for container adapters. */
  vref?: string;
  /** CPU cores reserved for this sliver (`cpu_cores` tag): a cpuset of `count` cores, plus the shared ones when `bestEffort`. */
  cpuCores?: CpuCores;
  run?: RunSpec;
}

export interface CpuCores {
  count: number;
  bestEffort: boolean;
}

export interface SliverStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** rspec including loans (docs/behaviour.md §3). */
  effectiveRSpec?: RSpec;
  /** The rspec last applied to the node, so limits are applied only on change. */
  appliedRSpec?: RSpec;
  /** The account's uid (the VServer context id). */
  xid?: number;
  running?: boolean;
  lastStartTime?: string;
  /** The last `spec.run.recreate` handled. */
  recreated?: number;
  /** The last `spec.run.start` handled. */
  startsHandled?: number;
  /** Set once the startup stagger has started this sliver. */
  staggerStarted?: boolean;
  /**
   * The desired run state (spec.run.state) the account controller last enforced: a change of the
   * spec is acted on once, and a sliver found stopped after a restart is not restarted behind the
   * operator's back (docs/behaviour.md §5).
   */
  runState?: 'Running' | 'Stopped';
  /** With a reservation policy: whether this sliver holds the node's current lease. */
  leaseHeld?: boolean;
  /** When the held lease ends (RFC 3339). */
  leaseUntil?: string;
  /** With lease_or_shared: the CPU guarantee (cpu_min) the lease adds while this sliver holds it. */
  leaseCpuMin?: number;
  /** The CPUs the sliver runs on (cpuset list, `0-1,3`), once whole-core scheduling pinned it (cpu_cores). */
  cpus?: string;
  /** The bwmon duty's count of today's traffic and the caps it set (docs/duties.md). */
  dailyBandwidth?: DailyBandwidth;
}

/** Bytes a sliver sent today (UTC) by its HTB classes, and the caps in force until the daily reset. */
export interface DailyBandwidth {
  /** The UTC day counted, `YYYY-MM-DD`. */
  day: string;
  /** Bytes sent today to destinations under the node cap. */
  sentBytes: number;
  /** Bytes sent today to exempt destinations (net_i2_*). */
  sentExemptBytes: number;
  /** The HTB class counters at the last reading (they are cumulative since the class was made). */
  counters: { bytes: number; exemptBytes: number };
  /** net_max in bit/s until the reset, once sentBytes passed the threshold. */
  netMaxCap?: number;
  /** net2_max in bit/s until the reset, once sentExemptBytes passed the exempt threshold. */
  net2MaxCap?: number;
  /** When the day's counting restarts and the caps go (RFC 3339). */
  resetAt: string;
}

export interface ResourceObject<K extends Kind, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type Sliver = ResourceObject<'Sliver', SliverSpec, SliverStatus>;

// ---- Delegate -------------------------------------------------------------------------------

export interface DelegateSpec {
  keys: string[];
  timestamp: number;
  instantiation?: Instantiation;
  attributes?: Record<string, string>;
  extra?: Record<string, unknown>;
}
export interface DelegateStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  uid?: number;
}
export type Delegate = ResourceObject<'Delegate', DelegateSpec, DelegateStatus>;

// ---- Loan -----------------------------------------------------------------------------------

export interface LoanSpec {
  /** The lending sliver. */
  from: string;
  /** The receiving sliver. */
  to: string;
  resource: LoanableResource;
  amount: number;
  /** Position in the lender's loan list: loans are granted in this order. */
  order: number;
}
export const LOAN_REASONS = ['Granted', 'UnknownTarget', 'UnknownLender', 'InsufficientResidual'] as const;
export type LoanReason = (typeof LOAN_REASONS)[number];
export interface LoanStatus {
  observedGeneration?: number;
  granted?: boolean;
  reason?: LoanReason;
  message?: string;
}
export type Loan = ResourceObject<'Loan', LoanSpec, LoanStatus>;

// ---- Event ----------------------------------------------------------------------------------

export interface EventSpec {
  involvedObject: { kind: Kind; name: string; uid?: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Repeats of the same (object, reason, message) are aggregated into one Event. */
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  /** The controller or component that reported it. */
  source: string;
}
export type SlvEvent = ResourceObject<'Event', EventSpec, Record<string, never>>;

// ---- NodeConfig ----------------------------------------------------------------------------

/**
 * What today's PLC says about the node itself (one object, NODE_CONFIG_NAME), kept for the
 * controllers of node duties: special accounts, configuration files, reservations, the node's
 * bandwidth cap. Written by the PLC source from each answer of today's form.
 */
export const NODE_CONFIG_NAME = 'plc';

export interface NodeAccount {
  /** `root` or `site_admin`: the node's special accounts. */
  name: string;
  /** ssh public keys. */
  keys: string[];
}

export interface ConfFile {
  /** Where the file goes on the node. */
  dest: string;
  /** Where PLC serves it from (relative to PLC's boot server). */
  source: string;
  /** Octal, e.g. `644`. */
  permissions: string;
  owner: string;
  group: string;
  preinstallCmd: string;
  postinstallCmd: string;
  errorCmd: string;
  ignoreCmdErrors: boolean;
  alwaysUpdate: boolean;
}

export interface Lease {
  sliceId: number;
  /** The sliver the slice id belongs to on this node, when PLC sent it. */
  sliver?: string;
  /** Unix seconds. */
  from: number;
  until: number;
}

export const RESERVATION_POLICIES = ['none', 'lease_or_idle', 'lease_or_shared'] as const;
export type ReservationPolicy = (typeof RESERVATION_POLICIES)[number];

export interface NodeConfigSpec {
  /** The timestamp (unix seconds) of the PLC answer that last changed this content. */
  timestamp: number;
  nodeId?: number;
  hostname?: string;
  /** The primary interface's `bwlimit` in bit/s; absent = PLC sets no cap. */
  bandwidthCap?: number;
  accounts: NodeAccount[];
  confFiles: ConfFile[];
  reservationPolicy: ReservationPolicy;
  leases: Lease[];
  /** PLC's lease granularity in seconds (`lease_granularity`): lease bounds are rounded to it. */
  leaseGranularity?: number;
  /** Node groups the node belongs to. */
  groups: string[];
}
/** What the conf-files duty last did with one conf file. */
export interface ConfFileStatus {
  dest: string;
  outcome: 'installed' | 'unchanged' | 'refused' | 'fetch-failed' | 'preinstall-failed' | 'install-failed' | 'postinstall-failed';
  /** Why it failed or was refused. */
  message?: string;
  /** When it was last installed (RFC 3339). */
  lastInstalled?: string;
}
export interface NodeConfigStatus {
  /** One entry per conf file of the spec, by the conf-files duty. */
  confFiles?: ConfFileStatus[];
}
export type NodeConfig = ResourceObject<'NodeConfig', NodeConfigSpec, NodeConfigStatus>;

// ---- kind map -------------------------------------------------------------------------------

export interface KindMap {
  Sliver: Sliver;
  Delegate: Delegate;
  Loan: Loan;
  Event: SlvEvent;
  NodeConfig: NodeConfig;
}
export type AnyObject = KindMap[Kind];

/** Plural resource names, as used in API paths. */
export const PLURALS: Record<Kind, string> = {
  Sliver: 'slivers',
  Delegate: 'delegates',
  Loan: 'loans',
  Event: 'events',
  NodeConfig: 'nodeconfigs',
};
export const SHORT_NAMES: Record<Kind, string[]> = {
  Sliver: ['sl', 'sliver', 'slivers'],
  Delegate: ['dg', 'delegate', 'delegates'],
  Loan: ['ln', 'loan', 'loans'],
  Event: ['ev', 'event', 'events'],
  NodeConfig: ['nc', 'nodeconfig', 'nodeconfigs'],
};

/** Account names: a lowercase letter first, then letters, digits or `_`, at most 32. */
export const ACCOUNT_NAME_PATTERN = '^[a-z][a-zA-Z0-9_]{0,31}$';
/**
 * Sliver and Delegate names: an account name, or any slice name PLC can produce
 * (`loginbase_slicename`, the login base of lowercase letters, digits or dots), at most 64, except
 * a login base starting with a dot (Loan and Event names derived from it could not start so).
 * Whether the node can create an account of that name is the node adapter's business.
 */
export const SLIVER_NAME_PATTERN = '^(?=.{1,64}$)(?:[a-z][a-zA-Z0-9_]*|[a-z0-9][a-z0-9.]*_[a-zA-Z0-9_.]+)$';
/** Loan and Event names: DNS-subdomain-like, because they are derived from other names. */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([a-zA-Z0-9_.-]{0,251}[a-zA-Z0-9_])?$';

export function isKind(value: string): value is Kind {
  return (KINDS as readonly string[]).includes(value);
}
