// PLC records (docs/behaviour.md §2, §4): checking a GetSlivers() answer, converting each sliver record to
// a Sliver or Delegate spec, and planning how the PLC-owned part of the store must change.
// Pure: the PLC adapter fetches the answer and applies the plan.
//
// Decisions:
// - A malformed answer is refused whole (InvalidError naming the first bad field): applying half of
//   it would purge slivers the bad part meant to keep.
// - `delegations` attribute: account names separated by commas and/or whitespace, each getting all
//   methods (`"del_snoop, pl_ops"` → [{account: del_snoop}, {account: pl_ops}]).
// - Records of type `delegate` or instantiation `nm-controller` become Delegates, others Slivers.
// - The last full update's timestamp only moves forward, so an answer replayed from the past cannot
//   readmit records that a newer one purged.
// - A record that is new and already expired (`expires < now`) is not created.
// - A record with a value out of its range (an rspec key, `expires`) is skipped with the reason;
//   every other record applies, and a stored object of that name is kept as it is.
import { InvalidError } from './errors.js';
import { rangeProblem, rspecFromAttributes } from './rspec.js';
import {
  ACCOUNT_NAME_PATTERN,
  EXPIRES_RANGE,
  RSPEC_KEYS,
  RSPEC_RANGES,
  INSTANTIATIONS,
  MANAGED_BY_LABEL,
  MANAGED_BY_PLC,
  type DelegateSpec,
  type Delegation,
  type Instantiation,
  type SliverSpec,
} from '../schemas/types.js';

export const DEFAULT_SLIVER_TYPE = 'sliver.VServer';
const DELEGATE_TYPE = 'delegate';
/** Sliver record fields that the conversion interprets; all others go to spec.extra. */
const KNOWN_FIELDS = new Set(['name', 'type', 'instantiation', 'expires', 'keys', 'attributes', 'timestamp']);
const ACCOUNT_NAME = new RegExp(ACCOUNT_NAME_PATTERN);

export type PlcRecord = { kind: 'Sliver'; name: string; spec: SliverSpec } | { kind: 'Delegate'; name: string; spec: DelegateSpec };

/** A record left out of an answer, and why. */
export interface SkippedRecord {
  name: string;
  reason: string;
}

/** One node struct of the answer: a full update with its timestamp. */
export interface PlcUpdate {
  timestamp: number;
  records: PlcRecord[];
  /** Records whose values are out of range: not applied, and their stored objects kept. */
  skipped?: SkippedRecord[];
}

type Struct = Record<string, unknown>;

function isStruct(value: unknown): value is Struct {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, message: string): never {
  throw new InvalidError(`malformed GetSlivers answer: ${path}: ${message}`, [{ field: path, message }]);
}

function integerAt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(path, `must be an integer, got ${JSON.stringify(value)}`);
  return value;
}

/** `delegations` attribute → Delegation list (see the decision above). */
export function parseDelegations(text: string, path = 'delegations'): Delegation[] {
  const accounts = text.split(/[\s,]+/).filter((account) => account.length > 0);
  for (const account of accounts) if (!ACCOUNT_NAME.test(account)) fail(path, `"${account}" is not an account name`);
  return [...new Set(accounts)].map((account) => ({ account }));
}

function attributesAt(value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {};
  if (!Array.isArray(value)) fail(path, 'must be a list of {name, value} structs');
  const attributes: Record<string, string> = {};
  value.forEach((attribute: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isStruct(attribute) || typeof attribute.name !== 'string') fail(at, 'must be a struct with a string name');
    const raw = attribute.value;
    if (typeof raw === 'string') attributes[attribute.name] = raw;
    else if (typeof raw === 'number' && Number.isFinite(raw)) attributes[attribute.name] = String(raw);
    else fail(`${at}.value`, 'must be a string');
  });
  return attributes;
}

function keysAt(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(path, 'must be a list of {key_type, key} structs');
  return value.map((entry: unknown, i) => {
    if (!isStruct(entry) || typeof entry.key !== 'string') fail(`${path}[${i}]`, 'must be a struct with a string key');
    return entry.key;
  });
}

function extraOf(record: Struct): Record<string, unknown> | undefined {
  const extra = Object.fromEntries(Object.entries(record).filter(([field]) => !KNOWN_FIELDS.has(field)));
  return Object.keys(extra).length > 0 ? extra : undefined;
}

/** One sliver record of a node struct, converted (docs/behaviour.md §4). */
export function convertSliverRecord(record: unknown, nodeTimestamp: number, path: string): PlcRecord {
  if (!isStruct(record)) fail(path, 'must be a struct');
  const name = record.name;
  if (typeof name !== 'string' || !ACCOUNT_NAME.test(name)) fail(`${path}.name`, `must be an account name (${ACCOUNT_NAME_PATTERN}), got ${JSON.stringify(name)}`);
  const type = record.type === undefined ? DEFAULT_SLIVER_TYPE : record.type;
  if (typeof type !== 'string' || type.length === 0) fail(`${path}.type`, 'must be a non-empty string');
  const instantiation = record.instantiation === undefined ? 'plc-instantiated' : record.instantiation;
  if (typeof instantiation !== 'string' || !(INSTANTIATIONS as readonly string[]).includes(instantiation)) {
    fail(`${path}.instantiation`, `must be one of ${INSTANTIATIONS.join(', ')}, got ${JSON.stringify(instantiation)}`);
  }
  const timestamp = record.timestamp === undefined ? nodeTimestamp : integerAt(record.timestamp, `${path}.timestamp`);
  const keys = keysAt(record.keys, `${path}.keys`);
  const attributes = attributesAt(record.attributes, `${path}.attributes`);
  const extra = extraOf(record);

  if (type === DELEGATE_TYPE || instantiation === 'nm-controller') {
    const spec: DelegateSpec = { keys, timestamp, instantiation: instantiation as Instantiation, attributes, ...(extra ? { extra } : {}) };
    return { kind: 'Delegate', name, spec };
  }
  const spec: SliverSpec = {
    type,
    instantiation: instantiation as Instantiation,
    keys,
    initscript: attributes.initscript ?? '',
    rspec: rspecFromAttributes(attributes),
    delegations: attributes.delegations === undefined ? [] : parseDelegations(attributes.delegations, `${path}.attributes.delegations`),
    timestamp,
    attributes,
    ...(record.expires === undefined ? {} : { expires: integerAt(record.expires, `${path}.expires`) }),
    ...(extra ? { extra } : {}),
  };
  return { kind: 'Sliver', name, spec };
}

/** Why a converted record cannot be applied (each value out of range, naming the key and the range), or undefined. */
export function recordProblem(record: PlcRecord): string | undefined {
  if (record.kind !== 'Sliver') return undefined;
  const { rspec, expires } = record.spec;
  const problems = RSPEC_KEYS.flatMap((key) => {
    const value = rspec[key];
    return value === undefined ? [] : [rangeProblem(key, value, RSPEC_RANGES[key])];
  });
  if (expires !== undefined) problems.push(rangeProblem('expires', expires, EXPIRES_RANGE));
  const found = problems.filter((problem): problem is string => problem !== undefined);
  return found.length ? found.join('; ') : undefined;
}

/** A whole GetSlivers() answer: a list of node structs, or one node struct. */
export function parseGetSlivers(answer: unknown): PlcUpdate[] {
  const nodes = Array.isArray(answer) ? answer : [answer];
  return nodes.map((node: unknown, n) => {
    const path = Array.isArray(answer) ? `[${n}]` : '(answer)';
    if (!isStruct(node)) fail(path, 'must be a node struct {timestamp, slivers}');
    const timestamp = integerAt(node.timestamp, `${path}.timestamp`);
    if (timestamp < 0) fail(`${path}.timestamp`, 'must not be negative');
    if (!Array.isArray(node.slivers)) fail(`${path}.slivers`, 'must be a list of sliver records');
    const update: Required<PlcUpdate> = { timestamp, records: [], skipped: [] };
    node.slivers.forEach((raw: unknown, i) => {
      const record = convertSliverRecord(raw, timestamp, `${path}.slivers[${i}]`);
      const reason = recordProblem(record);
      if (reason) update.skipped.push({ name: record.name, reason });
      else update.records.push(record);
    });
    return update;
  });
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
  /** Records not applied because a value is out of range; a stored object of the name is kept. */
  skipped: SkippedRecord[];
  /** The last full update's timestamp after this answer. */
  minTimestamp: number;
}

/**
 * Apply the answer's node structs in order, as the original did record by record: a record older
 * than the last full update is ignored, a new name is inserted, an existing one replaced only by a
 * newer timestamp; after each struct, PLC-owned records older than its timestamp are purged.
 */
export function planPlcSync(stored: readonly StoredRecord[], updates: readonly PlcUpdate[], minTimestamp: number, nowSeconds: number): PlcPlan {
  const userOwned = new Set(stored.filter((s) => !s.plcOwned).map((s) => s.name));
  const terminating = new Set(stored.filter((s) => s.terminating).map((s) => s.name));
  const current = new Map<string, { timestamp: number; record?: PlcRecord }>();
  for (const s of stored) if (s.plcOwned) current.set(s.name, { timestamp: s.timestamp });
  const conflicts = new Set<string>();
  const skipped = updates.flatMap((update) => update.skipped ?? []);
  // PLC still lists them, in a form that cannot be applied: what the store holds stays.
  const kept = new Set(skipped.map((record) => record.name));
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
  return { upserts, deletes, conflicts: [...conflicts], skipped, minTimestamp: min };
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
