// The store contract's write rules, independent of any backend: what a create, update, status
// update or delete does to the current object, or which typed error refuses it. A backend reads the
// current object, asks `planWrite`, and persists the change (if any) under the next revision.
import { jsonEqual } from './equal.js';
import { AccountNameTakenError, AlreadyExistsError, BadRequestError, ConflictError, InvalidError, NotFoundError } from './errors.js';
import { withSpecDefaults } from './defaults.js';
import { loanNameProblem } from './loan-names.js';
import { API_VERSION, DELETED_BY_ANNOTATION, type AnyObject, type Kind, type ObjectMeta } from '../schemas/types.js';
import { kindOf, validateObject, validateStatus } from './validation.js';

export type WriteOperation =
  | { type: 'create'; object: AnyObject }
  | { type: 'update'; object: AnyObject }
  | { type: 'updateStatus'; object: AnyObject }
  | { type: 'delete'; kind: Kind; name: string; resourceVersion?: string; deletedBy?: string };

/** What one write decided: the object it answers with, and the change to record (if any). */
export interface WritePlan {
  result: AnyObject | undefined;
  change?: { type: WatchEventType; object: AnyObject };
}

export interface PlanContext {
  /** The revision this write gets if it changes anything. */
  revision: number;
  /** The current stored object of a kind and name. */
  read(kind: Kind, name: string): AnyObject | undefined;
  /** RFC 3339 time for creationTimestamp / deletionTimestamp. */
  now: string;
  /** A fresh metadata.uid. */
  newUid(): string;
}

/** Decide what a write does; throws the typed error (404, 409, 422) that refuses it. */
export function planWrite(operation: WriteOperation, context: PlanContext): WritePlan {
  switch (operation.type) {
    case 'create':
      return planCreate(operation.object, context);
    case 'update':
      return planUpdate(operation.object, context);
    case 'updateStatus':
      return planUpdateStatus(operation.object, context);
    case 'delete':
      return planDelete(currentAt(context, operation.kind, operation.name, operation.resourceVersion), context, operation.deletedBy);
  }
}

/** What a transaction decided: one result per operation, and the changes to record under one revision. */
export interface TransactionPlan {
  results: Array<AnyObject | undefined>;
  changes: Array<{ type: WatchEventType; object: AnyObject }>;
}

/**
 * Decide a transaction: every operation is planned against the current store; the changes apply
 * together or, when any operation is refused, not at all (its typed error is thrown). An object may
 * be written only once per transaction, as in an etcd txn, so no operation depends on another.
 */
export function planTransaction(operations: readonly WriteOperation[], context: PlanContext): TransactionPlan {
  const written = new Set<string>();
  const plan: TransactionPlan = { results: [], changes: [] };
  for (const operation of operations) {
    const { kind, name } = operation.type === 'delete' ? operation : identify(operation.object);
    if (written.has(`${kind}/${name}`)) throw new BadRequestError(`a transaction may write ${kind.toLowerCase()} "${name}" only once`);
    const rival = accountRival(kind);
    if (operation.type === 'create' && rival && written.has(`${rival}/${name}`)) throw new AccountNameTakenError(kind, name, rival);
    written.add(`${kind}/${name}`);
    const { result, change } = planWrite(operation, context);
    plan.results.push(result);
    if (change) plan.changes.push(change);
  }
  return plan;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

function identify(object: unknown): { kind: Kind; name: string } {
  const kind = kindOf(object);
  const name = (object as Partial<AnyObject>).metadata?.name;
  if (typeof name !== 'string' || !name) throw new InvalidError('metadata.name is required', [{ field: 'metadata.name', message: 'required field is missing' }]);
  return { kind, name };
}

function currentAt(context: PlanContext, kind: Kind, name: string, resourceVersion: string | undefined): AnyObject {
  const current = context.read(kind, name);
  if (!current) throw new NotFoundError(kind, name);
  if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) {
    throw new ConflictError(
      kind,
      name,
      `the object has been modified; please apply your changes to the latest version and try again (resourceVersion ${resourceVersion} is stale, current is ${current.metadata.resourceVersion})`,
      current.metadata.resourceVersion,
    );
  }
  return current;
}

function planCreate(input: AnyObject, context: PlanContext): WritePlan {
  const { kind, name } = identify(input);
  const candidate = {
    apiVersion: API_VERSION,
    kind,
    metadata: { ...userMetadata(input.metadata), name, uid: context.newUid(), resourceVersion: String(context.revision), generation: 1, creationTimestamp: context.now },
    spec: withSpecDefaults(kind, input).spec,
    ...(input.status === undefined ? {} : { status: input.status }),
  } as AnyObject;
  admit(kind, candidate);
  if (context.read(kind, name)) throw new AlreadyExistsError(kind, name);
  const rival = accountRival(kind);
  const holder = rival && context.read(rival, name);
  // One being deleted is losing its account: the new object takes the name (the account controller replaces the account).
  if (rival && holder && holder.metadata.deletionTimestamp === undefined) throw new AccountNameTakenError(kind, name, rival);
  return { result: candidate, change: { type: 'ADDED', object: candidate } };
}

/** Slivers and Delegates are both accounts: of one name, only one may exist. The other kind of an account kind. */
export function accountRival(kind: Kind): 'Sliver' | 'Delegate' | undefined {
  return kind === 'Sliver' ? 'Delegate' : kind === 'Delegate' ? 'Sliver' : undefined;
}

function planUpdate(input: AnyObject, context: PlanContext): WritePlan {
  const { kind, name } = identify(input);
  const current = currentAt(context, kind, name, input.metadata.resourceVersion);
  const deleting = current.metadata.deletionTimestamp !== undefined;
  const metadata: ObjectMeta = { ...userMetadata(input.metadata), ...serverMetadata(current.metadata) };
  if (deleting) {
    const added = (metadata.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
    if (added.length) {
      throw new InvalidError(`${kind.toLowerCase()} "${name}" is being deleted: finalizers cannot be added (${added.join(', ')})`, [
        { field: 'metadata.finalizers', message: 'cannot add finalizers during deletion' },
      ]);
    }
  }
  const candidate = { apiVersion: API_VERSION, kind, metadata, spec: withSpecDefaults(kind, input).spec, ...(current.status === undefined ? {} : { status: current.status }) } as AnyObject;
  admit(kind, candidate);
  if (deleting && !(metadata.finalizers ?? []).length) {
    return { result: undefined, change: { type: 'DELETED', object: { ...candidate, metadata: { ...metadata, resourceVersion: String(context.revision) } } as AnyObject } };
  }
  if (jsonEqual(withoutVersion(candidate), withoutVersion(current))) return { result: current };
  const specChanged = !jsonEqual(candidate.spec, current.spec);
  candidate.metadata.generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
  candidate.metadata.resourceVersion = String(context.revision);
  return { result: candidate, change: { type: 'MODIFIED', object: candidate } };
}

/**
 * The checks a create or an update must pass: the kind's schema, then the rules between fields a
 * schema cannot state. Status writes are not held to the latter, so an object stored before a rule
 * existed can still get its status (and be deleted).
 */
function admit(kind: Kind, candidate: AnyObject): void {
  validateObject(kind, candidate);
  if (candidate.kind !== 'Loan') return;
  const problem = loanNameProblem(candidate.metadata.name, candidate.spec.from);
  if (problem) throw new InvalidError(`Loan "${candidate.metadata.name}" is invalid: metadata.name: ${problem}`, [{ field: 'metadata.name', message: problem }]);
}

function planUpdateStatus(input: AnyObject, context: PlanContext): WritePlan {
  const { kind, name } = identify(input);
  const current = currentAt(context, kind, name, input.metadata.resourceVersion);
  const candidate = { ...current, status: input.status } as AnyObject;
  if (input.status === undefined) delete candidate.status;
  validateStatus(candidate);
  if (jsonEqual(candidate.status, current.status)) return { result: current };
  candidate.metadata = { ...current.metadata, resourceVersion: String(context.revision) };
  return { result: candidate, change: { type: 'MODIFIED', object: candidate } };
}

function planDelete(current: AnyObject, context: PlanContext, deletedBy: string | undefined): WritePlan {
  if (current.metadata.deletionTimestamp) return { result: current };
  const annotations = deletedBy === undefined ? current.metadata.annotations : { ...current.metadata.annotations, [DELETED_BY_ANNOTATION]: deletedBy };
  const metadata = { ...current.metadata, ...(annotations === undefined ? {} : { annotations }), resourceVersion: String(context.revision) };
  if (current.metadata.finalizers?.length) {
    const marked = { ...current, metadata: { ...metadata, deletionTimestamp: context.now } } as AnyObject;
    return { result: marked, change: { type: 'MODIFIED', object: marked } };
  }
  return { result: undefined, change: { type: 'DELETED', object: { ...current, metadata } as AnyObject } };
}

/** Metadata fields clients own. */
function userMetadata(metadata: ObjectMeta): Partial<ObjectMeta> {
  const { labels, annotations, finalizers, managedFields } = metadata;
  return {
    ...(labels === undefined ? {} : { labels }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(finalizers === undefined || finalizers.length === 0 ? {} : { finalizers }),
    ...(managedFields === undefined ? {} : { managedFields }),
  };
}

/** Metadata fields only the store sets. */
function serverMetadata(metadata: ObjectMeta): ObjectMeta {
  const { name, uid, resourceVersion, generation, creationTimestamp, deletionTimestamp } = metadata;
  return {
    name,
    ...(uid === undefined ? {} : { uid }),
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
    ...(generation === undefined ? {} : { generation }),
    ...(creationTimestamp === undefined ? {} : { creationTimestamp }),
    ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
  };
}

function withoutVersion(object: AnyObject): unknown {
  return { ...object, metadata: { ...object.metadata, resourceVersion: undefined } };
}
