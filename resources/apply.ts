// Server-side apply and field ownership (docs/api.md "Apply"), JSON merge patch and JSON patch.
// Pure. Every walk reads own properties only and refuses the keys of resources/documents.ts
// FORBIDDEN_KEYS, so no field name, whatever a document holds, reaches Object.prototype.
//
// Every writer of an object is a field manager; metadata.managedFields records, per manager and
// operation, the JSON pointers (RFC 6901) of the leaf fields it set. Arrays are atomic leaves, as in
// Kubernetes lists without merge keys. An apply sets the fields of its configuration and removes the
// fields the same manager applied before and no longer does (unless another manager also owns them);
// changing a field another manager owns is a conflict unless forced, which moves ownership.
import type { Operation } from 'fast-json-patch';
import { fastJsonPatch } from './lazy-modules.js';
import { checkKey } from './documents.js';
import { jsonEqual } from './equal.js';
import { BadRequestError, ConflictError, InvalidError } from './errors.js';
import type { AnyObject, ManagedFieldsEntry } from '../schemas/types.js';

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const unescape = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

function tokens(pointer: string): string[] {
  return pointer.split('/').slice(1).map(unescape);
}

/** JSON pointers of the leaves under `value` (objects are walked, arrays and scalars are leaves). */
function leaves(value: Json, base: string, out: string[]): string[] {
  if (!isObject(value)) {
    if (value !== undefined) out.push(base);
    return out;
  }
  for (const [key, child] of Object.entries(value)) leaves(child, `${base}/${escape(key)}`, out);
  return out;
}

/** The leaf fields of an object that managers own: labels, annotations, finalizers and spec. */
export function ownedFields(object: Pick<AnyObject, 'metadata'> & { spec?: unknown }): string[] {
  const out: string[] = [];
  const { labels, annotations, finalizers } = object.metadata;
  leaves(labels, '/metadata/labels', out);
  leaves(annotations, '/metadata/annotations', out);
  leaves(finalizers, '/metadata/finalizers', out);
  leaves(object.spec, '/spec', out);
  return out.sort();
}

/** The member `key` of `node` if it is its own (inherited members are not data). */
function own(node: JsonObject, key: string): Json {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

export function valueAt(document: Json, pointer: string): Json {
  let node = document;
  for (const token of tokens(pointer)) {
    if (!isObject(node)) return undefined;
    node = own(node, token);
  }
  return node;
}

function setAt(document: JsonObject, pointer: string, value: Json): void {
  const path = tokens(pointer);
  path.forEach((token) => checkKey(token, pointer));
  const last = path.pop()!;
  let node = document;
  for (const token of path) {
    if (!isObject(own(node, token))) node[token] = {};
    node = node[token] as JsonObject;
  }
  node[last] = structuredClone(value);
}

function removeAt(document: JsonObject, pointer: string): void {
  const path = tokens(pointer);
  const last = path.pop()!;
  const parent = valueAt(document, path.map((t) => `/${escape(t)}`).join(''));
  if (isObject(parent)) delete parent[last];
}

/** Two pointers overlap when one is the other or contains it. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

function sameEntry(entry: ManagedFieldsEntry, manager: string, operation: ManagedFieldsEntry['operation']): boolean {
  return entry.manager === manager && entry.operation === operation;
}

/**
 * The managedFields after `manager` wrote `after`: its entry owns `fields` (its `time` changes only
 * when its fields do, so a no-op write stays a no-op), `taken` fields leave every other entry, and
 * fields the object no longer has leave every entry. Empty entries are dropped.
 */
function nextManagedFields(previous: readonly ManagedFieldsEntry[], after: AnyObject, own: ManagedFieldsEntry, taken: readonly string[], now: string): ManagedFieldsEntry[] {
  const present = ownedFields(after);
  const exists = (field: string) => present.some((p) => overlaps(p, field));
  const result: ManagedFieldsEntry[] = [];
  let ownWritten = false;
  const writeOwn = (old: ManagedFieldsEntry | undefined) => {
    ownWritten = true;
    const fields = [...own.fields].filter(exists).sort();
    if (!fields.length) return;
    const unchanged = old !== undefined && jsonEqual(old.fields, fields);
    result.push({ manager: own.manager, operation: own.operation, fields, ...(unchanged && old.time ? { time: old.time } : { time: now }) });
  };
  for (const entry of previous) {
    if (sameEntry(entry, own.manager, own.operation)) {
      writeOwn(entry);
      continue;
    }
    const fields = entry.fields.filter((f) => exists(f) && !taken.some((t) => overlaps(t, f)));
    if (fields.length) result.push({ ...entry, fields });
  }
  if (!ownWritten) writeOwn(undefined);
  return result;
}

export interface ApplyOptions {
  /** Take ownership of conflicting fields instead of failing. */
  force: boolean;
  /** The time recorded in the manager's entry when its fields change (RFC 3339). */
  now: string;
}

/**
 * Server-side apply of `configuration` (a partial object: apiVersion, kind, metadata.name and the
 * fields the manager wants) by `manager` onto `current` (undefined = create). Returns the object to
 * store; throws ConflictError naming the fields and their owners on a conflict without `force`.
 */
export function applyConfiguration<T extends AnyObject>(current: T | undefined, configuration: T, manager: string, options: ApplyOptions): T {
  const applied = ownedFields(configuration);
  const own: ManagedFieldsEntry = { manager, operation: 'Apply', fields: applied };
  if (!current) {
    const { labels, annotations, finalizers } = configuration.metadata;
    const created = {
      apiVersion: configuration.apiVersion,
      kind: configuration.kind,
      metadata: { name: configuration.metadata.name, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}), ...(finalizers ? { finalizers } : {}) },
      spec: configuration.spec ?? {},
    } as T;
    created.metadata.managedFields = nextManagedFields([], created, own, [], options.now);
    return created;
  }

  const entries = current.metadata.managedFields ?? [];
  const previous = entries.find((e) => sameEntry(e, manager, 'Apply'))?.fields ?? [];
  const others = entries.filter((e) => !sameEntry(e, manager, 'Apply'));
  const ownedByOthers = (field: string) => others.some((e) => e.fields.some((f) => overlaps(f, field)));

  const merged = structuredClone(current) as T & JsonObject;
  for (const field of previous) {
    if (!applied.some((a) => overlaps(a, field)) && !ownedByOthers(field)) removeAt(merged, field);
  }
  for (const field of applied) setAt(merged, field, valueAt(configuration, field));

  const conflicts = others.flatMap((entry) =>
    entry.fields.filter((f) => applied.some((a) => overlaps(a, f)) && !jsonEqual(valueAt(current, f), valueAt(merged, f))).map((field) => ({ manager: entry.manager, field })),
  );
  if (conflicts.length && !options.force) {
    const list = conflicts.map((c) => `${c.field} (owned by "${c.manager}")`).join(', ');
    const plural = conflicts.length === 1 ? 'conflict' : 'conflicts';
    throw new ConflictError(current.kind, current.metadata.name, `apply failed with ${conflicts.length} ${plural}: ${list}; apply with force to take ownership`, current.metadata.resourceVersion);
  }
  merged.metadata.managedFields = nextManagedFields(
    entries,
    merged,
    own,
    conflicts.map((c) => c.field),
    options.now,
  );
  return merged;
}

/**
 * The managedFields after a plain write (create, update, patch) by `manager`: it owns what it
 * changed, which leaves other managers without a conflict check (as in Kubernetes).
 */
export function recordUpdate<T extends AnyObject>(before: AnyObject | undefined, after: T, manager: string, now: string): T {
  const changed = ownedFields(after).filter((field) => !before || !jsonEqual(valueAt(before, field), valueAt(after, field)));
  const entries = before?.metadata.managedFields ?? [];
  const previous = entries.find((e) => sameEntry(e, manager, 'Update'))?.fields ?? [];
  const own: ManagedFieldsEntry = { manager, operation: 'Update', fields: [...new Set([...previous, ...changed])] };
  return { ...after, metadata: { ...after.metadata, managedFields: nextManagedFields(entries, after, own, changed, now) } };
}

/** A managedFields entry as Kubernetes clients read it: the fields as a FieldsV1 set (`{"f:spec": {"f:rspec": {"f:cpu_share": {}}}}`). */
export interface KubernetesManagedFieldsEntry {
  manager: string;
  operation: ManagedFieldsEntry['operation'];
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
}

/**
 * An object with its managedFields in Kubernetes' form, for the REST API's clients (kubectl reads
 * FieldsV1 and fails on anything else); slv stores and compares JSON pointers. Arrays, atomic here,
 * are leaves there too.
 */
export function withKubernetesManagedFields<T extends AnyObject>(object: T): T {
  const entries = object.metadata.managedFields;
  if (!entries) return object;
  const converted: KubernetesManagedFieldsEntry[] = entries.map((entry) => {
    const set: JsonObject = {};
    for (const field of entry.fields) {
      let node = set;
      for (const token of tokens(field)) node = (node[`f:${token}`] ??= {}) as JsonObject;
    }
    return { manager: entry.manager, operation: entry.operation, apiVersion: object.apiVersion, ...(entry.time ? { time: entry.time } : {}), fieldsType: 'FieldsV1', fieldsV1: set };
  });
  return { ...object, metadata: { ...object.metadata, managedFields: converted as unknown as ManagedFieldsEntry[] } };
}

/** RFC 7386 JSON merge patch: objects merge recursively, null removes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    checkKey(key, '');
    if (value === null) delete result[key];
    else result[key] = mergePatch(own(result, key), value);
  }
  return result;
}

/** RFC 6902 JSON patch on a copy of `document`; a path through a forbidden key is refused before anything is applied. */
export function applyJsonPatch(document: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw new BadRequestError('a JSON patch must be an array of operations');
  for (const operation of operations as Array<{ path?: unknown; from?: unknown }>) {
    for (const pointer of [operation?.path, operation?.from]) {
      if (typeof pointer === 'string') tokens(pointer).forEach((token) => checkKey(token, pointer));
    }
  }
  try {
    return fastJsonPatch().applyPatch(structuredClone(document), operations as Operation[], true, false).newDocument;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    throw new InvalidError(`the JSON patch cannot be applied: ${message}`, [], { cause: error });
  }
}
