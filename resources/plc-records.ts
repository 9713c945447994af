// PLC records (docs/plc.md): checking a GetSlivers() answer of either form, converting each sliver
// record to a Sliver or Delegate spec, today's node-level data to a NodeConfig spec, and planning
// how the PLC-owned part of the store must change. Pure: the PLC adapter fetches and applies.
//
// Decisions:
// - Two forms, told apart per answer: the 2006 form (a list of node structs, or one node struct,
//   attributes keyed by `name`) and today's (one struct, attributes keyed by `tagname`, with
//   `initscripts`, `accounts`, `interfaces`, ...). A struct is today's when it carries any of
//   today's node-level fields or any attribute keyed by `tagname`.
// - Only a malformed answer as a whole (not a struct or list, no timestamp, no sliver list) is
//   refused. Each sliver record is checked on its own: a bad one is skipped with the reason, the
//   others apply, and the skipped name's stored object is kept as it was (never purged for it).
// - `delegations` attribute: names separated by commas and/or whitespace, each getting all
//   methods (`"del_snoop, pl_ops"` → [{account: del_snoop}, {account: pl_ops}]).
// - Records of type `delegate` or instantiation `nm-controller` become Delegates, others Slivers.
// - Attributes: when a name comes twice the later one wins, as in the node manager (PLC sends
//   per-node tags first and leaves out broader tags of the same name).
// - The last full update's timestamp only moves forward, so an answer replayed from the past cannot
//   readmit records that a newer one purged.
// - A record that is new and already expired (`expires < now`) is not created.
// - A record with a value out of its range (an rspec key, `expires`) is skipped with the reason;
//   every other record applies, and a stored object of that name is kept as it is.
import { InvalidError } from './errors.js';
import { rangeProblem, rspecFromAttributes } from './rspec.js';
import { cpuCoresFromTag, rspecFromTags } from './plc-tags.js';
import { DEFAULT_LEASE_GRANULARITY_SECONDS } from './reservations.js';
import { validateObject } from './validation.js';
import {
  API_VERSION,
  EXPIRES_RANGE,
  RSPEC_KEYS,
  RSPEC_RANGES,
  INSTANTIATIONS,
  MANAGED_BY_LABEL,
  MANAGED_BY_PLC,
  RESERVATION_POLICIES,
  SLIVER_NAME_PATTERN,
  type ConfFile,
  type DelegateSpec,
  type Delegation,
  type Instantiation,
  type Lease,
  type NodeAccount,
  type NodeConfigSpec,
  type ReservationPolicy,
  type SliverSpec,
} from '../schemas/types.js';

export const DEFAULT_SLIVER_TYPE = 'sliver.VServer';
/** Today's node manager creates LXC containers unless a `type` tag says otherwise. */
export const TODAY_DEFAULT_SLIVER_TYPE = 'sliver.LXC';
const DELEGATE_TYPE = 'delegate';
/** Sliver record fields that the conversion interprets; all others go to spec.extra. */
const KNOWN_FIELDS = new Set(['name', 'type', 'instantiation', 'expires', 'keys', 'attributes', 'timestamp']);
/** Node-level fields only today's answer has. */
const TODAY_NODE_FIELDS = ['initscripts', 'accounts', 'interfaces', 'leases', 'reservation_policy', 'lease_granularity', 'xmpp'];
const SLIVER_NAME = new RegExp(SLIVER_NAME_PATTERN);

export type PlcAnswerForm = '2006' | 'today';

export type PlcRecord = { kind: 'Sliver'; name: string; spec: SliverSpec } | { kind: 'Delegate'; name: string; spec: DelegateSpec };

/** A part of the answer left out, and why. */
export interface SkippedEntry {
  /** Where in the answer, e.g. `slivers[3]` or `conf_files[0]`. */
  path: string;
  /** The sliver record's name, when it has a usable one. */
  name?: string;
  reason: string;
}

/** One node struct of the answer: a full update with its timestamp. */
export interface PlcUpdate {
  timestamp: number;
  records: PlcRecord[];
  skipped: SkippedEntry[];
}

export interface PlcAnswer {
  form: PlcAnswerForm;
  updates: PlcUpdate[];
  /** Today's node-level data (absent in the 2006 form). */
  nodeConfig?: NodeConfigSpec;
  /** Node-level entries left out (bad conf file, account, lease, interface, policy). */
  skippedNodeEntries: SkippedEntry[];
}

/** What a sliver record is read with: its answer's form and node-level data. */
export interface RecordContext {
  form: PlcAnswerForm;
  /** The node struct's timestamp, the default of each record's. */
  timestamp: number;
  /** Today's initscripts by name (empty in the 2006 form). */
  initscripts: ReadonlyMap<string, string>;
}

type Struct = Record<string, unknown>;

function isStruct(value: unknown): value is Struct {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, message: string): never {
  throw new InvalidError(`${path}: ${message}`, [{ field: path, message }]);
}

function failAnswer(path: string, message: string): never {
  throw new InvalidError(`malformed GetSlivers answer: ${path}: ${message}`, [{ field: path, message }]);
}

function integerAt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(path, `must be an integer, got ${JSON.stringify(value)}`);
  return value;
}

function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, `must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** `delegations` attribute → Delegation list (see the decision above). */
export function parseDelegations(text: string, path = 'delegations'): Delegation[] {
  const accounts = text.split(/[\s,]+/).filter((account) => account.length > 0);
  for (const account of accounts) if (!SLIVER_NAME.test(account)) fail(path, `"${account}" is not a sliver or delegate name`);
  return [...new Set(accounts)].map((account) => ({ account }));
}

/** Attributes as a map; the 2006 form keys them by `name`, today's by `tagname`. */
function attributesAt(value: unknown, path: string, form: PlcAnswerForm): Record<string, string> {
  const key = form === 'today' ? 'tagname' : 'name';
  if (value === undefined) return {};
  if (!Array.isArray(value)) fail(path, `must be a list of {${key}, value} structs`);
  const attributes: Record<string, string> = {};
  value.forEach((attribute: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isStruct(attribute) || typeof attribute[key] !== 'string') fail(at, `must be a struct with a string ${key}`);
    const raw = attribute.value;
    if (typeof raw === 'string') attributes[attribute[key]] = raw;
    else if (typeof raw === 'number' && Number.isFinite(raw)) attributes[attribute[key]] = String(raw);
    else fail(`${at}.value`, 'must be a string');
  });
  return attributes;
}

/** ssh keys: `{key_type, key}` structs; today's `accounts` may also list bare key strings. */
function keysAt(value: unknown, path: string, bareStrings = false): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(path, 'must be a list of {key_type, key} structs');
  return value.map((entry: unknown, i) => {
    if (bareStrings && typeof entry === 'string') return entry;
    if (!isStruct(entry) || typeof entry.key !== 'string') fail(`${path}[${i}]`, 'must be a struct with a string key');
    return entry.key;
  });
}

function extraOf(record: Struct): Record<string, unknown> | undefined {
  const extra = Object.fromEntries(Object.entries(record).filter(([field]) => !KNOWN_FIELDS.has(field)));
  return Object.keys(extra).length > 0 ? extra : undefined;
}

/** Today's init script: `initscript_code` if set, else the `initscripts` entry `initscript` names, else none. */
function todayInitscript(attributes: Record<string, string>, initscripts: ReadonlyMap<string, string>): string {
  if (attributes.initscript_code) return attributes.initscript_code;
  const name = attributes.initscript;
  return (name !== undefined ? initscripts.get(name) : undefined) ?? '';
}

/**
 * Today's reference image: PLC's GetSliceFamily (the vref with the architecture, which today's
 * node manager puts over the `vref` tag), else the tag.
 */
function vrefOf(record: Struct, attributes: Record<string, string>): { vref?: string } {
  const family = record.GetSliceFamily;
  const vref = typeof family === 'string' && family.length > 0 ? family : attributes.vref;
  return vref ? { vref } : {};
}

/** The record's name if it is one slv accepts (for reporting a record skipped for another reason). */
function usableName(record: unknown): string | undefined {
  return isStruct(record) && typeof record.name === 'string' && SLIVER_NAME.test(record.name) ? record.name : undefined;
}

/** One sliver record, converted; throws InvalidError naming the field at fault. */
function convertRecord(record: unknown, context: RecordContext, path: string): PlcRecord {
  if (!isStruct(record)) fail(path, 'must be a struct');
  const name = record.name;
  if (typeof name !== 'string' || !SLIVER_NAME.test(name)) fail(`${path}.name`, `must be a slice or account name (${SLIVER_NAME_PATTERN}), got ${JSON.stringify(name)}`);
  const instantiation = record.instantiation === undefined ? 'plc-instantiated' : record.instantiation;
  if (typeof instantiation !== 'string' || !(INSTANTIATIONS as readonly string[]).includes(instantiation)) {
    fail(`${path}.instantiation`, `must be one of ${INSTANTIATIONS.join(', ')}, got ${JSON.stringify(instantiation)}`);
  }
  const timestamp = record.timestamp === undefined ? context.timestamp : integerAt(record.timestamp, `${path}.timestamp`);
  const keys = keysAt(record.keys, `${path}.keys`);
  const attributes = attributesAt(record.attributes, `${path}.attributes`, context.form);
  const today = context.form === 'today';
  const type = record.type ?? (today ? (attributes.type ?? TODAY_DEFAULT_SLIVER_TYPE) : DEFAULT_SLIVER_TYPE);
  if (typeof type !== 'string' || type.length === 0) fail(`${path}.type`, 'must be a non-empty string');
  const extra = extraOf(record);

  if (type === DELEGATE_TYPE || instantiation === 'nm-controller') {
    const spec: DelegateSpec = { keys, timestamp, instantiation: instantiation as Instantiation, attributes, ...(extra ? { extra } : {}) };
    validateObject('Delegate', { apiVersion: API_VERSION, kind: 'Delegate', metadata: { name }, spec });
    return { kind: 'Delegate', name, spec };
  }
  const spec: SliverSpec = {
    type,
    instantiation: instantiation as Instantiation,
    keys,
    initscript: today ? todayInitscript(attributes, context.initscripts) : (attributes.initscript ?? ''),
    rspec: today ? rspecFromTags(attributes) : rspecFromAttributes(attributes),
    delegations: attributes.delegations === undefined ? [] : parseDelegations(attributes.delegations, `${path}.attributes.delegations`),
    timestamp,
    attributes,
    ...(record.expires === undefined ? {} : { expires: integerAt(record.expires, `${path}.expires`) }),
    ...(extra ? { extra } : {}),
    ...(today ? vrefOf(record, attributes) : {}),
    ...(today && attributes.cpu_cores !== undefined ? { cpuCores: cpuCoresFromTag(attributes.cpu_cores) } : {}),
  };
  checkRanges(spec, path);
  validateObject('Sliver', { apiVersion: API_VERSION, kind: 'Sliver', metadata: { name }, spec });
  return { kind: 'Sliver', name, spec };
}

/** Each rspec value and `expires` within its range; throws naming every one that is not. */
function checkRanges(spec: SliverSpec, path: string): void {
  const problems = RSPEC_KEYS.map((key) => {
    const value = spec.rspec[key];
    return value === undefined ? undefined : rangeProblem(key, value, RSPEC_RANGES[key]);
  });
  if (spec.expires !== undefined) problems.push(rangeProblem('expires', spec.expires, EXPIRES_RANGE));
  const found = problems.filter((problem): problem is string => problem !== undefined);
  if (found.length > 0) fail(path, found.join('; '));
}

/**
 * One sliver record, checked on its own: the converted record, or why it is skipped (the field at
 * fault and what is wrong). Every check a record must pass belongs in here.
 */
export function convertSliverRecord(record: unknown, context: RecordContext, path: string): { record: PlcRecord } | { skipped: SkippedEntry } {
  try {
    return { record: convertRecord(record, context, path) };
  } catch (error) {
    if (!(error instanceof InvalidError)) throw error;
    const name = usableName(record);
    return { skipped: { path, ...(name === undefined ? {} : { name }), reason: error.message } };
  }
}

/** Today's answer, or a 2006 one (see the decisions above). */
export function answerForm(answer: unknown): PlcAnswerForm {
  if (!isStruct(answer)) return '2006';
  if (TODAY_NODE_FIELDS.some((field) => field in answer)) return 'today';
  const slivers = Array.isArray(answer.slivers) ? answer.slivers : [];
  const tagged = slivers.some((record: unknown) => isStruct(record) && Array.isArray(record.attributes) && record.attributes.some((a: unknown) => isStruct(a) && 'tagname' in a));
  return tagged ? 'today' : '2006';
}

function initscriptsAt(value: unknown, skipped: SkippedEntry[]): Map<string, string> {
  const scripts = new Map<string, string>();
  if (value === undefined || value === null) return scripts;
  if (!Array.isArray(value)) failAnswer('initscripts', 'must be a list of {name, script} structs');
  value.forEach((entry: unknown, i) => {
    const path = `initscripts[${i}]`;
    if (!isStruct(entry) || typeof entry.name !== 'string' || typeof entry.script !== 'string') {
      skipped.push({ path, reason: `${path}: must be a struct with a string name and script` });
    } else if (entry.enabled !== false) {
      scripts.set(entry.name, entry.script);
    }
  });
  return scripts;
}

/** Each entry of a node-level list converted on its own; a bad one is skipped with the reason. */
function entriesAt<T>(value: unknown, field: string, skipped: SkippedEntry[], convert: (entry: unknown, path: string) => T | undefined): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    skipped.push({ path: field, reason: `${field}: must be a list` });
    return [];
  }
  return value.flatMap((entry: unknown, i) => {
    const path = `${field}[${i}]`;
    try {
      const converted = convert(entry, path);
      return converted === undefined ? [] : [converted];
    } catch (error) {
      if (!(error instanceof InvalidError)) throw error;
      skipped.push({ path, reason: error.message });
      return [];
    }
  });
}

function accountAt(entry: unknown, path: string): NodeAccount {
  if (!isStruct(entry)) fail(path, 'must be a {name, keys} struct');
  const name = stringAt(entry.name, `${path}.name`);
  if (name.length === 0) fail(`${path}.name`, 'must not be empty');
  return { name, keys: keysAt(entry.keys, `${path}.keys`, true) };
}

/** A command PLC may leave null: none. */
function commandAt(value: unknown, path: string): string {
  return value === undefined || value === null ? '' : stringAt(value, path);
}

/** An enabled conf file; a disabled one is left out (PLC sends only enabled ones). */
function confFileAt(entry: unknown, path: string): ConfFile | undefined {
  if (!isStruct(entry)) fail(path, 'must be a conf file struct');
  if (entry.enabled === false) return undefined;
  const dest = stringAt(entry.dest, `${path}.dest`);
  if (!dest.startsWith('/')) fail(`${path}.dest`, `must be an absolute path, got ${JSON.stringify(dest)}`);
  const permissions = entry.file_permissions === undefined || entry.file_permissions === null ? '644' : stringAt(entry.file_permissions, `${path}.file_permissions`);
  if (!/^[0-7]{3,4}$/.test(permissions)) fail(`${path}.file_permissions`, `must be octal permissions like 644, got ${JSON.stringify(permissions)}`);
  const owner = entry.file_owner === undefined || entry.file_owner === null ? 'root' : stringAt(entry.file_owner, `${path}.file_owner`);
  const group = entry.file_group === undefined || entry.file_group === null ? 'root' : stringAt(entry.file_group, `${path}.file_group`);
  return {
    dest,
    source: stringAt(entry.source, `${path}.source`),
    permissions,
    owner: owner || 'root',
    group: group || 'root',
    preinstallCmd: commandAt(entry.preinstall_cmd, `${path}.preinstall_cmd`),
    postinstallCmd: commandAt(entry.postinstall_cmd, `${path}.postinstall_cmd`),
    errorCmd: commandAt(entry.error_cmd, `${path}.error_cmd`),
    ignoreCmdErrors: entry.ignore_cmd_errors === true,
    alwaysUpdate: entry.always_update === true,
  };
}

function leaseAt(entry: unknown, path: string, sliverBySliceId: ReadonlyMap<number, string>): Lease {
  if (!isStruct(entry)) fail(path, 'must be a {slice_id, t_from, t_until} struct');
  const sliceId = integerAt(entry.slice_id, `${path}.slice_id`);
  const from = integerAt(entry.t_from, `${path}.t_from`);
  const until = integerAt(entry.t_until, `${path}.t_until`);
  if (until < from) fail(`${path}.t_until`, `ends (${until}) before it starts (${from})`);
  const named = typeof entry.name === 'string' && SLIVER_NAME.test(entry.name) ? entry.name : undefined;
  const sliver = named ?? sliverBySliceId.get(sliceId);
  return { sliceId, ...(sliver === undefined ? {} : { sliver }), from, until };
}

/** The primary interface's bwlimit (bit/s), as the node manager takes the node's cap from it. */
function bandwidthCapAt(value: unknown, skipped: SkippedEntry[]): number | undefined {
  const caps = entriesAt(value, 'interfaces', skipped, (entry, path) => {
    if (!isStruct(entry)) fail(path, 'must be an interface struct');
    if (entry.is_primary !== true || entry.bwlimit === undefined || entry.bwlimit === null) return undefined;
    const cap = integerAt(entry.bwlimit, `${path}.bwlimit`);
    if (cap < 8) fail(`${path}.bwlimit`, `must be at least 8 bit/s, got ${cap}`);
    return cap;
  });
  return caps[0];
}

/** `lease_granularity` in seconds; absent (an older PLC) or bad, the node manager's default of an hour. */
function leaseGranularityAt(value: unknown, skipped: SkippedEntry[]): number {
  if (value === undefined || value === null) return DEFAULT_LEASE_GRANULARITY_SECONDS;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  skipped.push({ path: 'lease_granularity', reason: `lease_granularity: must be a positive integer number of seconds, got ${JSON.stringify(value)}; using ${DEFAULT_LEASE_GRANULARITY_SECONDS}` });
  return DEFAULT_LEASE_GRANULARITY_SECONDS;
}

function reservationPolicyAt(value: unknown, skipped: SkippedEntry[]): ReservationPolicy {
  if (value === undefined || value === null) return 'none';
  if (typeof value === 'string' && (RESERVATION_POLICIES as readonly string[]).includes(value)) return value as ReservationPolicy;
  skipped.push({ path: 'reservation_policy', reason: `reservation_policy: must be one of ${RESERVATION_POLICIES.join(', ')}, got ${JSON.stringify(value)}; using none` });
  return 'none';
}

function nodeConfigOf(answer: Struct, timestamp: number, records: readonly unknown[], skipped: SkippedEntry[]): NodeConfigSpec {
  const sliverBySliceId = new Map<number, string>();
  for (const record of records) {
    const name = usableName(record);
    const sliceId = isStruct(record) ? record.slice_id : undefined;
    if (name !== undefined && typeof sliceId === 'number') sliverBySliceId.set(sliceId, name);
  }
  const bandwidthCap = bandwidthCapAt(answer.interfaces, skipped);
  const groups = entriesAt(answer.groups, 'groups', skipped, (entry, path) => stringAt(entry, path));
  return {
    timestamp,
    ...(typeof answer.node_id === 'number' && Number.isSafeInteger(answer.node_id) ? { nodeId: answer.node_id } : {}),
    ...(typeof answer.hostname === 'string' ? { hostname: answer.hostname } : {}),
    ...(bandwidthCap === undefined ? {} : { bandwidthCap }),
    accounts: entriesAt(answer.accounts, 'accounts', skipped, accountAt),
    confFiles: entriesAt(answer.conf_files, 'conf_files', skipped, confFileAt),
    reservationPolicy: reservationPolicyAt(answer.reservation_policy, skipped),
    leases: entriesAt(answer.leases, 'leases', skipped, (entry, path) => leaseAt(entry, path, sliverBySliceId)),
    leaseGranularity: leaseGranularityAt(answer.lease_granularity, skipped),
    groups,
  };
}

/** One node struct: its timestamp and sliver list are required; each record stands on its own. */
function updateOf(node: unknown, path: string, context: Omit<RecordContext, 'timestamp'>): PlcUpdate {
  if (!isStruct(node)) failAnswer(path, 'must be a node struct {timestamp, slivers}');
  const timestamp = node.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) failAnswer(`${path}.timestamp`, `must be an integer, got ${JSON.stringify(timestamp)}`);
  if (timestamp < 0) failAnswer(`${path}.timestamp`, 'must not be negative');
  if (!Array.isArray(node.slivers)) failAnswer(`${path}.slivers`, 'must be a list of sliver records');
  const records: PlcRecord[] = [];
  const skipped: SkippedEntry[] = [];
  const prefix = path === '(answer)' ? '' : `${path}.`;
  node.slivers.forEach((raw: unknown, i) => {
    const result = convertSliverRecord(raw, { ...context, timestamp }, `${prefix}slivers[${i}]`);
    if ('record' in result) records.push(result.record);
    else skipped.push(result.skipped);
  });
  return { timestamp, records, skipped };
}

/** A whole GetSlivers() answer of either form. InvalidError only when the answer as a whole is unusable. */
export function parseGetSlivers(answer: unknown): PlcAnswer {
  const form = answerForm(answer);
  if (form === '2006') {
    const nodes = Array.isArray(answer) ? answer : [answer];
    const updates = nodes.map((node: unknown, n) => updateOf(node, Array.isArray(answer) ? `[${n}]` : '(answer)', { form, initscripts: new Map() }));
    return { form, updates, skippedNodeEntries: [] };
  }
  const node = answer as Struct;
  const skippedNodeEntries: SkippedEntry[] = [];
  const initscripts = initscriptsAt(node.initscripts, skippedNodeEntries);
  const update = updateOf(node, '(answer)', { form, initscripts });
  const nodeConfig = nodeConfigOf(node, update.timestamp, node.slivers as unknown[], skippedNodeEntries);
  return { form, updates: [update], nodeConfig, skippedNodeEntries };
}

// ---- planning the store changes -------------------------------------------------------------

/** What the store holds under a name that PLC may send. */
export interface StoredRecord {
  kind: 'Sliver' | 'Delegate';
  name: string;
  timestamp: number;
  /** Labelled as PLC's: the PLC source may replace and purge it. Others are never touched. */
  plcOwned: boolean;
  /** Being deleted (waiting for finalizers): neither rewritten nor deleted again until it is gone. */
  terminating?: boolean;
}

export interface PlcPlan {
  /** Records to write: new names, or PLC-owned names with a newer record. */
  upserts: PlcRecord[];
  /** PLC-owned objects to delete: purged, or replaced by a record of the other kind. */
  deletes: Array<{ kind: 'Sliver' | 'Delegate'; name: string }>;
  /** Names PLC sent that belong to a user-owned object: left alone. */
  conflicts: string[];
  /** Records skipped as bad, from every node struct; a stored object of a skipped name is kept. */
  skipped: SkippedEntry[];
  /** The last full update's timestamp after this answer. */
  minTimestamp: number;
}

/**
 * Apply the answer's node structs in order, as the original did record by record: a record older
 * than the last full update is ignored, a new name is inserted, an existing one replaced only by a
 * newer timestamp; after each struct, PLC-owned records older than its timestamp are purged,
 * except those whose record in that struct was skipped as bad (kept as they were).
 */
export function planPlcSync(stored: readonly StoredRecord[], updates: readonly PlcUpdate[], minTimestamp: number, nowSeconds: number): PlcPlan {
  const userOwned = new Set(stored.filter((s) => !s.plcOwned).map((s) => s.name));
  const terminating = new Set(stored.filter((s) => s.terminating).map((s) => s.name));
  const current = new Map<string, { timestamp: number; record?: PlcRecord }>();
  for (const s of stored) if (s.plcOwned) current.set(s.name, { timestamp: s.timestamp });
  const conflicts = new Set<string>();
  let min = minTimestamp;

  for (const update of updates) {
    for (const record of update.records) {
      if (userOwned.has(record.name)) {
        conflicts.add(record.name);
        continue;
      }
      if (record.spec.timestamp < min || terminating.has(record.name)) continue;
      const existing = current.get(record.name);
      if (existing ? record.spec.timestamp > existing.timestamp : !isExpired(record, nowSeconds)) {
        current.set(record.name, { timestamp: record.spec.timestamp, record });
      }
    }
    // PLC still lists them, in a form that cannot be applied: what the store holds stays.
    const kept = new Set(update.skipped.flatMap((entry) => (entry.name === undefined ? [] : [entry.name])));
    min = Math.max(min, update.timestamp);
    for (const [name, entry] of current) if (entry.timestamp < min && !kept.has(name)) current.delete(name);
  }

  const upserts = [...current.values()].flatMap((entry) => (entry.record ? [entry.record] : []));
  const deletes: PlcPlan['deletes'] = [];
  for (const s of stored) {
    if (!s.plcOwned || s.terminating) continue;
    const next = current.get(s.name);
    if (!next || (next.record && next.record.kind !== s.kind)) deletes.push({ kind: s.kind, name: s.name });
  }
  return { upserts, deletes, conflicts: [...conflicts], skipped: updates.flatMap((update) => update.skipped), minTimestamp: min };
}

function isExpired(record: PlcRecord, nowSeconds: number): boolean {
  return record.kind === 'Sliver' && record.spec.expires !== undefined && record.spec.expires < nowSeconds;
}

/** The labels that mark an object as PLC's. */
export function plcLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return { ...labels, [MANAGED_BY_LABEL]: MANAGED_BY_PLC };
}

export function isPlcOwned(labels: Record<string, string> | undefined): boolean {
  return labels?.[MANAGED_BY_LABEL] === MANAGED_BY_PLC;
}
