// Who may do what through the REST and XML-RPC APIs (docs/api.md "Authorization", docs/security.md).
// Pure: the caller's identity comes from the kernel (adapters/api/identity/) and the objects are
// read by the server beforehand.
//
// Root (uid 0) may do everything. The account of sliver X (the account is named X) and the accounts
// a delegation on X names may act on X; what a delegation allows is said in XML-RPC method names
// (docs/behaviour.md §6), so one `delegations` entry means the same thing on both APIs.
import { jsonEqual } from './equal.js';
import { ForbiddenError } from './errors.js';
import type { AnyObject, Kind, RunSpec, Sliver } from '../schemas/types.js';

/** Who is calling, on either API: the uid the kernel named for the connection, and its account. */
export interface Caller {
  uid: number;
  /** The account name of the uid on this node, if it has one. */
  account: string | undefined;
}

export type AccessVerb = 'read' | 'create' | 'update' | 'delete' | 'updateStatus';

export interface AccessRequest {
  caller: Caller;
  verb: AccessVerb;
  kind: Kind;
  /** The stored object (read, update, delete, updateStatus). */
  current?: AnyObject;
  /** The object as it would be stored (create, update). */
  desired?: AnyObject;
}

/** Finds a sliver by name: delegations live on the sliver a Loan or Event refers to. */
export type SliverLookup = (name: string) => Sliver | undefined;

/**
 * What a REST operation on sliver X counts as, in XML-RPC method names: a delegation on X that
 * lists any of the methods (or lists none, meaning all) allows the operation.
 */
export const OPERATION_METHODS = {
  /** get/list/watch Sliver X and the Events about X */
  read: ['GetRSpec', 'GetEffectiveRSpec', 'GetRecord'],
  /** get/list/watch Loans with spec.from = X */
  readLoans: ['GetLoans', 'SetLoans'],
  /** create/update/delete Loans with spec.from = X */
  writeLoans: ['SetLoans'],
  /** spec.run.state: Running, or spec.run.start bumped */
  start: ['Start'],
  /** spec.run.state: Stopped */
  stop: ['Stop'],
  /** spec.run.instantiated: true */
  instantiate: ['Create'],
  /** spec.run.instantiated: false */
  destroy: ['Destroy'],
  /** spec.run.recreate bumped */
  recreate: ['ReCreate'],
} as const satisfies Record<string, readonly string[]>;
export type SliverOperation = keyof typeof OPERATION_METHODS;

export const ROOT_UID = 0;

export function describeCaller(caller: Caller): string {
  return caller.account === undefined ? `uid ${caller.uid} (no account on this node)` : `user "${caller.account}" (uid ${caller.uid})`;
}

/**
 * The one delegation check, for both APIs: may the caller do to sliver `name` what any of the
 * XML-RPC `methods` does? Root, the sliver's own account, or a delegation on the sliver naming the
 * caller's account and listing one of the methods (or listing none, meaning all).
 */
export function mayCallOnSliver(caller: Caller, name: string, sliver: Sliver | undefined, methods: readonly string[]): boolean {
  if (caller.uid === ROOT_UID) return true;
  if (caller.account === undefined) return false;
  if (caller.account === name) return true;
  return (sliver?.spec.delegations ?? []).some((d) => d.account === caller.account && (d.methods === undefined || d.methods.some((m) => methods.includes(m))));
}

/** May the caller perform the REST `operation` on sliver `name`? */
export function maySliver(caller: Caller, operation: SliverOperation, name: string, sliver: Sliver | undefined): boolean {
  return mayCallOnSliver(caller, name, sliver, OPERATION_METHODS[operation]);
}

/**
 * What changing each spec.run field amounts to. Typed over every RunSpec field, so a new field
 * cannot be added without deciding who may set it.
 */
const RUN_FIELD_OPERATIONS: { [F in keyof RunSpec]-?: (after: RunSpec) => SliverOperation } = {
  state: (after) => (after.state === 'Stopped' ? 'stop' : 'start'),
  instantiated: (after) => (after.instantiated === false ? 'destroy' : 'instantiate'),
  recreate: () => 'recreate',
  start: () => 'start',
};

/** The sliver operations a change of spec.run amounts to; everything else a non-root caller may not change. */
export function runOperations(current: Sliver, desired: Sliver): SliverOperation[] {
  const before: RunSpec = { ...current.spec.run, state: current.spec.run?.state ?? 'Running' };
  const after: RunSpec = { ...desired.spec.run, state: desired.spec.run?.state ?? 'Running' };
  const fields = Object.keys(RUN_FIELD_OPERATIONS) as Array<keyof RunSpec>;
  return fields.filter((field) => before[field] !== after[field]).map((field) => RUN_FIELD_OPERATIONS[field](after));
}

/** The fields of a sliver, outside spec.run, that an update changes (server-set metadata aside). */
function changedOutsideRun(current: Sliver, desired: Sliver): string[] {
  const changed: string[] = [];
  for (const field of ['labels', 'annotations', 'finalizers'] as const) {
    if (!jsonEqual(current.metadata[field] ?? undefined, desired.metadata[field] ?? undefined)) changed.push(`metadata.${field}`);
  }
  const keys = new Set([...Object.keys(current.spec), ...Object.keys(desired.spec)]);
  for (const key of [...keys].sort()) {
    if (key === 'run') continue;
    if (!jsonEqual(current.spec[key as keyof Sliver['spec']], desired.spec[key as keyof Sliver['spec']])) changed.push(`spec.${key}`);
  }
  return changed;
}

function refuse(caller: Caller, what: string, rule: string): never {
  throw new ForbiddenError(`${describeCaller(caller)} may not ${what}: ${rule}`);
}

/** Throws ForbiddenError (naming the caller, `what` and the rule) unless the caller may perform `operation` on sliver `name`. */
export function authorizeSliverOperation(caller: Caller, operation: SliverOperation, name: string, sliver: Sliver | undefined, what: string): void {
  if (maySliver(caller, operation, name, sliver)) return;
  const methods = OPERATION_METHODS[operation].join(' or ');
  refuse(caller, what, `only root, the account "${name}" or a delegation on sliver "${name}" allowing ${methods} may`);
}

function requireSliver(request: AccessRequest, operation: SliverOperation, name: string, what: string, slivers: SliverLookup): void {
  authorizeSliverOperation(request.caller, operation, name, slivers(name), what);
}

function authorizeSliver(request: AccessRequest, slivers: SliverLookup): void {
  const { caller, verb } = request;
  const current = request.current as Sliver | undefined;
  const desired = request.desired as Sliver | undefined;
  const name = (current ?? desired)?.metadata.name ?? '';
  const lookup: SliverLookup = (n) => (n === name ? (current ?? slivers(n)) : slivers(n));
  if (verb === 'read') return requireSliver(request, 'read', name, `read sliver "${name}"`, lookup);
  if (verb !== 'update' || !current || !desired) {
    const what = verb === 'updateStatus' ? `write the status of sliver "${name}"` : `${verb} sliver "${name}"`;
    refuse(caller, what, 'only root may');
  }
  const other = changedOutsideRun(current, desired);
  if (other.length) refuse(caller, `change ${other.join(', ')} of sliver "${name}"`, "only root may; the sliver's users may change spec.run only");
  const operations = runOperations(current, desired);
  if (!operations.length) return requireSliver(request, 'read', name, `update sliver "${name}"`, lookup);
  for (const operation of operations) requireSliver(request, operation, name, `${operation} sliver "${name}"`, lookup);
}

function authorizeLoan(request: AccessRequest, slivers: SliverLookup): void {
  const { verb } = request;
  const lenders = new Set([request.current, request.desired].flatMap((o) => (o && o.kind === 'Loan' ? [o.spec.from] : [])));
  const name = (request.current ?? request.desired)?.metadata.name ?? '';
  for (const lender of lenders) {
    if (verb === 'read') requireSliver(request, 'readLoans', lender, `read loan "${name}" of sliver "${lender}"`, slivers);
    else if (verb === 'updateStatus') refuse(request.caller, `write the status of loan "${name}"`, 'only root may');
    else requireSliver(request, 'writeLoans', lender, `${verb} loan "${name}" of sliver "${lender}"`, slivers);
  }
}

function authorizeEvent(request: AccessRequest, slivers: SliverLookup): void {
  const event = request.current ?? request.desired;
  const name = event?.metadata.name ?? '';
  if (request.verb !== 'read' || !event || event.kind !== 'Event') refuse(request.caller, `${request.verb} event "${name}"`, 'only root may');
  const about = event.spec.involvedObject;
  if (about.kind !== 'Sliver') refuse(request.caller, `read event "${name}" about ${about.kind.toLowerCase()} "${about.name}"`, 'only root may');
  requireSliver(request, 'read', about.name, `read events of sliver "${about.name}"`, slivers);
}

/** Throws ForbiddenError (naming the caller, the operation and the rule) unless the request is allowed. */
export function authorize(request: AccessRequest, slivers: SliverLookup): void {
  if (request.caller.uid === ROOT_UID) return;
  switch (request.kind) {
    case 'Sliver':
      return authorizeSliver(request, slivers);
    case 'Loan':
      return authorizeLoan(request, slivers);
    case 'Event':
      return authorizeEvent(request, slivers);
    case 'Delegate':
    case 'NodeConfig': {
      const name = (request.current ?? request.desired)?.metadata.name ?? '';
      const what = `${request.kind === 'Delegate' ? 'delegate' : 'node config'} "${name}"`;
      refuse(request.caller, `${request.verb === 'updateStatus' ? 'write the status of' : request.verb} ${what}`, 'only root may');
    }
  }
}

/**
 * The check before any merge or apply work on `object` (the stored one, or the configuration of a
 * create): refuses a caller who could not be allowed any write to it whatever the result, so
 * nobody else's input is merged. Root; for a Sliver its own account or an account one of its
 * delegations names; for a Loan the same on its lender. authorize() decides on the result after.
 */
export function authorizeAttempt(caller: Caller, verb: 'update' | 'updateStatus' | 'create', object: AnyObject, slivers: SliverLookup): void {
  if (caller.uid === ROOT_UID) return;
  const what = `${verb === 'updateStatus' ? 'write the status of' : verb} ${object.kind.toLowerCase()} "${object.metadata.name}"`;
  if (verb === 'updateStatus') refuse(caller, what, 'only root may');
  // A configuration is not validated yet: its spec may be missing.
  const lender: unknown = object.kind === 'Loan' ? (object.spec as { from?: unknown } | undefined)?.from : undefined;
  const sliverName = object.kind === 'Sliver' ? object.metadata.name : lender;
  if (typeof sliverName !== 'string') refuse(caller, what, object.kind === 'Loan' ? 'a loan names its lender in spec.from' : 'only root may');
  const sliver = slivers(sliverName) ?? (object.kind === 'Sliver' ? object : undefined);
  const delegations: Sliver['spec']['delegations'] = Array.isArray(sliver?.spec?.delegations) ? sliver.spec.delegations : [];
  const named = caller.account !== undefined && (caller.account === sliverName || delegations.some((d) => d?.account === caller.account));
  if (!named) refuse(caller, what, `only root, the account "${sliverName}" or an account a delegation on sliver "${sliverName}" names may`);
}

/** The names of slivers whose delegations decide access to `object` (for the server to load). */
export function sliversConsulted(object: AnyObject): string[] {
  switch (object.kind) {
    case 'Sliver':
      return [object.metadata.name];
    case 'Loan':
      return [object.spec.from];
    case 'Event':
      return object.spec.involvedObject.kind === 'Sliver' ? [object.spec.involvedObject.name] : [];
    case 'Delegate':
    case 'NodeConfig':
      return [];
  }
}

/** Whether the caller may read `object` (lists and watches show a non-root caller only these). */
export function mayRead(caller: Caller, object: AnyObject, slivers: SliverLookup): boolean {
  try {
    authorize({ caller, verb: 'read', kind: object.kind, current: object }, slivers);
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError) return false;
    throw error;
  }
}
