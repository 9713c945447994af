// What each field of each kind means, with its unit: the `description` of the kinds' JSON Schemas
// (schemas/kinds.ts), so `kubectl explain`, `slvctl explain` and editors reading the exported
// schemas show it. Keyed by field path; an array's items take the array's path. A unit test
// requires a description for every field, and a field for every description.
import type { Kind, RSpecKey } from './types.js';

type Descriptions = Record<string, string>;

/** A fragment's descriptions placed at `path` (its key '' is the fragment's own root). */
function at(path: string, descriptions: Descriptions): Descriptions {
  return Object.fromEntries(Object.entries(descriptions).map(([key, text]) => [key === '' ? path : `${path}.${key}`, text]));
}

const RSPEC: Record<RSpecKey, string> = {
  enabled: '1 enabled, 0 disabled: a disabled sliver is stopped and loses remote login. Default 1.',
  cpu_min: 'Guaranteed CPU in thousandths of a CPU (1000 = one whole CPU); a guarantee only from 50 (5 %) up. Default 0. Can be lent.',
  cpu_share: 'Proportional CPU weight when there is no guarantee (32 = the kernel default share). Default 32. Can be lent; the lender keeps at least 16.',
  net_min: 'Guaranteed outbound rate, bit/s. Default 8. Can be lent.',
  net_max: 'Outbound ceiling, bit/s. Default 1000000000 (1 Gbit/s). Can be lent; the lender keeps at least 8.',
  net2_min: 'Guaranteed rate to exempt (Internet2) destinations, bit/s. Default 8. Can be lent.',
  net2_max: 'Ceiling to exempt (Internet2) destinations, bit/s. Default 1000000000. Can be lent; the lender keeps at least 8.',
  net_share: 'Share of spare outbound bandwidth, in 1514-byte HTB quanta. Default 1. Can be lent; the lender keeps at least 1.',
  disk_max: 'Disk quota of the home, KiB. Default 5000000 (about 4.8 GiB). Cannot be lent.',
};
const rspec = (what: string): Descriptions => ({ '': what, ...RSPEC });

const METADATA: Descriptions = {
  '': 'Standard object metadata.',
  name: 'The object name, unique per kind. For slivers and delegates it is the account name on the node.',
  namespace: "In a fleet (etcd): the node the object belongs to. Absent in a node's own store.",
  uid: 'Unique for the life of the object; a re-created object of the same name gets a new one.',
  resourceVersion: 'Opaque: the store revision at which the object last changed. Sent back on update, it makes a stale write a Conflict.',
  generation: 'Incremented by every change of spec; status.observedGeneration says which generation the controllers have acted on.',
  creationTimestamp: 'When the object was created (RFC 3339, UTC).',
  deletionTimestamp: 'Set when deletion was asked while finalizers remain (RFC 3339, UTC); the object goes once they are removed.',
  finalizers: 'Controllers that must finish before the object is removed: nm.planet-lab.org/account until the account is gone.',
  labels: 'String keys and values for selecting objects (-l). nm.planet-lab.org/managed-by=plc marks objects PLC owns.',
  annotations: 'String keys and values tools keep with the object (kubectl keeps its last-applied configuration here).',
  managedFields: 'Which field manager set which fields, for server-side apply conflicts.',
  'managedFields.manager': 'The field manager: ?fieldManager=, else the writing account (plc for the PLC source).',
  'managedFields.operation': 'Apply (server-side apply) or Update (any other write).',
  'managedFields.fields': 'JSON pointers (RFC 6901) of the leaf fields this manager set.',
  'managedFields.time': 'When this manager last wrote (RFC 3339, UTC).',
};

const CONDITIONS: Descriptions = {
  '': "The latest observations of the object's state, one per type (Ready, AccountReady, ResourcesApplied, …).",
  type: 'What the condition is about, e.g. Ready.',
  status: 'True, False or Unknown.',
  reason: 'One CamelCase word saying why, for programs.',
  message: 'Why, for people.',
  lastTransitionTime: 'When status last changed (RFC 3339, UTC); a new reason or message alone does not change it.',
  observedGeneration: 'The metadata.generation this condition was computed from.',
};

const COMMON = (kind: string): Descriptions => ({
  apiVersion: 'Always nm.planet-lab.org/v1.',
  kind: `Always ${kind}.`,
  ...at('metadata', METADATA),
});

const OBSERVED = 'The metadata.generation the controllers last acted on.';
const INSTANTIATION =
  'plc-instantiated: PLC created the account and keeps it; delegated: kept in the store, but the account is made and removed only by the API calls Create/Destroy; nm-controller: an account for a controller, handled like a delegate.';
const PLC_TIMESTAMP = 'The PLC record timestamp (Unix seconds) the object was last written from; 0 for objects PLC never sent.';
const ATTRIBUTES = 'The raw PLC attributes (slice tags) by name, as strings.';
const EXTRA = 'Fields of the PLC record slv does not interpret, kept as PLC sent them.';
const KEYS = 'ssh public keys allowed to log in to the account, one per entry.';

const SLIVER: Descriptions = {
  ...COMMON('Sliver'),
  spec: 'What the sliver should be: written by PLC for PLC slivers, by users (slvctl, kubectl, XML-RPC) for the rest and for spec.run.',
  'spec.type': 'The account class, e.g. sliver.VServer or sliver.LXC.',
  'spec.instantiation': INSTANTIATION,
  'spec.keys': KEYS,
  'spec.initscript': 'A script run as the account when the sliver starts (at most 1 MiB).',
  ...at('spec.rspec', rspec('The resources the sliver is given (missing keys take their defaults). Loans change the effective values (status.effectiveRSpec), not these.')),
  'spec.expires': 'When the sliver expires (Unix seconds): once expires < now it is deleted, its account and loans with it.',
  'spec.delegations': 'Other accounts allowed to act on this sliver through the APIs.',
  'spec.delegations.account': 'The account allowed to act on this sliver.',
  'spec.delegations.methods': 'The XML-RPC method names it may call (GetRSpec, Start, SetLoans, …); the REST operations count as the matching methods. Absent: all.',
  'spec.timestamp': PLC_TIMESTAMP,
  'spec.attributes': ATTRIBUTES,
  'spec.extra': EXTRA,
  'spec.vref': "The reference image the sliver's container is made from (PLC's vref tag), for container adapters (lxc).",
  'spec.cpuCores': "CPU cores reserved for this sliver (PLC's cpu_cores tag).",
  'spec.cpuCores.count': "How many whole cores the sliver's cpuset holds.",
  'spec.cpuCores.bestEffort': 'Whether the sliver may also run on the shared cores.',
  'spec.run': 'The run state users ask for; PLC updates never overwrite it.',
  'spec.run.state': 'Running or Stopped. Absent: Running (a sliver runs once its account exists).',
  'spec.run.instantiated': 'For delegated slivers: true once API Create asked for the account, false once Destroy removed it.',
  'spec.run.recreate': 'A counter bumped by ReCreate (slvctl recreate): the account is re-created when it exceeds status.recreated.',
  'spec.run.start': 'A counter bumped by Start (slvctl start): the sliver is started once it exceeds status.startsHandled, even if state already says Running.',
  status: 'What the controllers observed; written by slvd only.',
  'status.observedGeneration': OBSERVED,
  ...at('status.conditions', CONDITIONS),
  ...at('status.effectiveRSpec', rspec('The rspec with loans given and taken (what the sliver is entitled to). Values may exceed the spec ranges.')),
  ...at('status.appliedRSpec', rspec('The rspec last applied to the node, so limits are rewritten only when they change.')),
  'status.xid': "The account's uid on the node (the VServer context id).",
  'status.running': 'Whether the sliver was running when last observed.',
  'status.lastStartTime': 'When slvd last started the sliver (RFC 3339, UTC).',
  'status.recreated': 'The last spec.run.recreate handled.',
  'status.startsHandled': 'The last spec.run.start handled.',
  'status.staggerStarted': 'Set once the startup stagger has started this sliver.',
  'status.runState': "The run state (spec.run.state) last enforced: a sliver found stopped after a restart is not restarted behind the operator's back.",
  'status.leaseHeld': "With a reservation policy: whether this sliver holds the node's current lease.",
  'status.leaseUntil': 'When the held lease ends (RFC 3339, UTC).',
  'status.leaseCpuMin': 'With lease_or_shared: the CPU guarantee (cpu_min, in the units of rspec cpu_min) the lease adds while this sliver holds it.',
  'status.cpus': 'The CPUs the sliver runs on (a cpuset list such as 0-1,3), once whole-core scheduling (spec.cpuCores) pinned it.',
  'status.dailyBandwidth': "The bwmon duty's count of today's traffic (UTC day) and the caps it set until the daily reset.",
  'status.dailyBandwidth.day': 'The UTC day counted, YYYY-MM-DD.',
  'status.dailyBandwidth.sentBytes': 'Bytes sent today to destinations under the node cap.',
  'status.dailyBandwidth.sentExemptBytes': 'Bytes sent today to exempt destinations (net_i2_*).',
  'status.dailyBandwidth.counters': 'The HTB class byte counters at the last reading (cumulative since the class was made; a smaller reading means tc reset them).',
  'status.dailyBandwidth.counters.bytes': "The capped class's counter, bytes.",
  'status.dailyBandwidth.counters.exemptBytes': "The exempt class's counter, bytes.",
  'status.dailyBandwidth.netMaxCap': 'net_max in bit/s until the reset, set once sentBytes passed net_thresh_kbyte.',
  'status.dailyBandwidth.net2MaxCap': 'net2_max in bit/s until the reset, set once sentExemptBytes passed net_i2_thresh_kbyte.',
  'status.dailyBandwidth.resetAt': "When the day's counting restarts and the caps go (RFC 3339, UTC).",
};

const DELEGATE: Descriptions = {
  ...COMMON('Delegate'),
  spec: 'An account allowed to act on slivers that name it in spec.delegations; its login shell forwards API calls to slvd.',
  'spec.keys': KEYS,
  'spec.timestamp': PLC_TIMESTAMP,
  'spec.instantiation': INSTANTIATION,
  'spec.attributes': ATTRIBUTES,
  'spec.extra': EXTRA,
  status: 'What the controllers observed; written by slvd only.',
  'status.observedGeneration': OBSERVED,
  ...at('status.conditions', CONDITIONS),
  'status.uid': "The account's uid on the node.",
};

const LOAN: Descriptions = {
  ...COMMON('Loan'),
  spec: 'An amount of one resource a sliver lends another, taken from what PLC gave the lender.',
  'spec.from': 'The lending sliver.',
  'spec.to': 'The receiving sliver.',
  'spec.resource': 'The rspec key lent; units as in the rspec (cpu_min: 1/1000 CPU, cpu_share: weight, net_*: bit/s, net_share: quanta).',
  'spec.amount': "How much is lent, in the resource's unit.",
  'spec.order': "The position in the lender's loan list: loans are granted in this order, each against what the earlier ones left.",
  status: 'Whether the loan is in force; written by slvd only.',
  'status.observedGeneration': OBSERVED,
  'status.granted': "Whether the loan counts in both slivers' effective rspecs.",
  'status.reason': 'Granted, or why not: UnknownTarget, UnknownLender, InsufficientResidual (the lender would keep less than its minimum).',
  'status.message': 'Why, for people.',
};

const EVENT: Descriptions = {
  ...COMMON('Event'),
  spec: 'Something that happened to an object, as reported by a controller.',
  'spec.involvedObject': 'The object the event is about.',
  'spec.involvedObject.kind': 'Its kind.',
  'spec.involvedObject.name': 'Its name.',
  'spec.involvedObject.uid': 'Its metadata.uid, telling it from an earlier object of the same name.',
  'spec.type': 'Normal or Warning.',
  'spec.reason': 'One CamelCase word saying what happened, for programs.',
  'spec.message': 'What happened, for people.',
  'spec.count': 'How many times the same (object, reason, message) happened: repeats are counted, not added.',
  'spec.firstTimestamp': 'When it first happened (RFC 3339, UTC).',
  'spec.lastTimestamp': 'When it last happened (RFC 3339, UTC).',
  'spec.source': 'The controller or component that reported it.',
  status: 'Unused: events have no status.',
};

const NODE_CONFIG: Descriptions = {
  ...COMMON('NodeConfig'),
  spec: 'What PLC says about the node itself (one object, named plc), for the node duties: special accounts, conf files, reservations, the bandwidth cap.',
  'spec.timestamp': 'The timestamp (Unix seconds) of the PLC answer that last changed this content.',
  'spec.nodeId': "The node's PLC node_id.",
  'spec.hostname': "The node's host name at PLC.",
  'spec.bandwidthCap': "The primary interface's bwlimit, bit/s; absent: PLC sets no cap.",
  'spec.accounts': "The node's special accounts and who may log in to them.",
  'spec.accounts.name': 'root or site_admin.',
  'spec.accounts.keys': KEYS,
  'spec.confFiles': 'Configuration files PLC has the node install.',
  'spec.confFiles.dest': 'Where the file goes on the node (absolute; only under the allowed directories).',
  'spec.confFiles.source': "Where PLC's boot server serves it from (relative).",
  'spec.confFiles.permissions': 'Its mode, octal, e.g. 644.',
  'spec.confFiles.owner': 'The owning user.',
  'spec.confFiles.group': 'The owning group.',
  'spec.confFiles.preinstallCmd': 'A command run before the file is installed.',
  'spec.confFiles.postinstallCmd': 'A command run after it is installed.',
  'spec.confFiles.errorCmd': 'A command run when installing fails.',
  'spec.confFiles.ignoreCmdErrors': 'Install even if the preinstall command fails.',
  'spec.confFiles.alwaysUpdate': 'Install even if the file is unchanged.',
  'spec.reservationPolicy':
    'none; lease_or_idle: only the sliver holding the current lease runs, the others are stopped (with no lease the node is idle); lease_or_shared: every sliver keeps running and the holder gets a CPU guarantee (status.leaseCpuMin); status.leaseHeld names the holder.',
  'spec.leaseGranularity': "PLC's lease granularity, seconds: lease bounds are rounded to a multiple of it (an hour when PLC sends none).",
  'spec.leases': "The node's reservations (leases), in time order.",
  'spec.leases.sliceId': 'The PLC slice_id holding the lease.',
  'spec.leases.sliver': 'The sliver of that slice on this node, when PLC sent it.',
  'spec.leases.from': 'When the lease starts (Unix seconds).',
  'spec.leases.until': 'When it ends (Unix seconds).',
  'spec.groups': 'The node groups the node belongs to.',
  status: 'What the node duties did; written by slvd only.',
  'status.confFiles': 'One entry per conf file of the spec.',
  'status.confFiles.dest': "The file's spec.confFiles.dest.",
  'status.confFiles.outcome': 'What the last attempt did: installed, unchanged, or where it failed.',
  'status.confFiles.message': 'Why it failed or was refused.',
  'status.confFiles.lastInstalled': 'When it was last installed (RFC 3339, UTC).',
};

export const DESCRIPTIONS: Record<Kind, Descriptions> = { Sliver: SLIVER, Delegate: DELEGATE, Loan: LOAN, Event: EVENT, NodeConfig: NODE_CONFIG };
