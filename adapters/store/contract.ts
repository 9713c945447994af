// The store contract (docs/store.md): the same guarantees kube-apiserver expects from etcd,
// so that any backend passing adapters/store/conformance.ts can replace the embedded SQLite one.
import type { AnyObject, Kind, KindMap } from '../../schemas/types.js';

import type { WatchEventType, WriteOperation } from '../../resources/store-rules.js';
import type { StringInterner } from '../../resources/intern.js';

export type { WatchEventType, WriteOperation };

export interface WatchEvent<T extends AnyObject = AnyObject> {
  type: WatchEventType;
  /** For DELETED: the object as it was last stored, with resourceVersion = the deleting revision. */
  object: T;
  /** The store revision of this change. */
  revision: number;
}

export interface ListResult<T extends AnyObject> {
  items: T[];
  /** The store revision the list reflects: watch from here to see every later change. */
  revision: number;
}

export interface ListOptions {
  /** Equality selectors `key=value`, `key!=value`, `key` (exists), `!key`, comma-separated. */
  labelSelector?: string;
  /**
   * Share the listed objects' repeated strings through this table, as each is parsed: a caller that
   * keeps them all (the informer) holds one copy of each, and the parser's copies die young.
   */
  strings?: StringInterner;
}

export interface WriteOptions {
  /** Validate and compute the result, write nothing. */
  dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  /** Precondition: fail with 409 Conflict unless the object is at this resourceVersion. */
  resourceVersion?: string;
  /** Who deletes and why, in words: stored as the deleted-by annotation of the object it marks or removes (the Deleted Event says it). */
  deletedBy?: string;
}

export interface WatchOptions {
  /** Only this kind (all kinds if absent). */
  kind?: Kind;
  /**
   * Deliver every change after this revision (history replay, then live).
   * Absent = only changes after the current revision. Older than the kept history = GoneError.
   */
  sinceRevision?: number;
}

export interface Watch {
  stop(): void;
}

export interface WatchHandlers {
  onEvent(event: WatchEvent): void;
  /** The watch ended abnormally (e.g. the store closed); the client should relist. */
  onError?(error: Error): void;
}

export interface Store {
  /**
   * Create; 409 AlreadyExists if the name is taken. Server-set metadata (uid, resourceVersion,
   * generation, timestamps) in the input is ignored; status in the input is the initial status.
   */
  create<T extends AnyObject>(object: T, options?: WriteOptions): Promise<T>;
  /** The object, or a NotFoundError. */
  get<K extends Kind>(kind: K, name: string): Promise<KindMap[K]>;
  /** The object, or undefined. */
  tryGet<K extends Kind>(kind: K, name: string): Promise<KindMap[K] | undefined>;
  list<K extends Kind>(kind: K, options?: ListOptions): Promise<ListResult<KindMap[K]>>;
  /**
   * Replace spec and metadata (labels, annotations, finalizers, managedFields); status is ignored.
   * If metadata.resourceVersion is set and stale: 409 Conflict. A write that changes nothing
   * returns the stored object and bumps nothing. generation bumps only when spec changes.
   */
  update<T extends AnyObject>(object: T, options?: WriteOptions): Promise<T>;
  /** Replace status only (spec and metadata untouched); same resourceVersion rules as update. */
  updateStatus<T extends AnyObject>(object: T, options?: WriteOptions): Promise<T>;
  /**
   * Delete. With finalizers, the object only gets deletionTimestamp (returned); it disappears
   * when an update removes its last finalizer. Returns undefined when it was removed outright.
   */
  delete<K extends Kind>(kind: K, name: string, options?: DeleteOptions): Promise<KindMap[K] | undefined>;
  /**
   * Several writes as one: each operation (create, update, updateStatus, delete, with the rules and
   * preconditions of the single writes) sees the store as the earlier ones left it. Either all
   * apply, under ONE new revision shared by every changed object, with one watch event per changed
   * object in operation order; or the first refused operation's typed error (409, 404, 422, ...) is
   * thrown and nothing is written. An object may appear once per transaction (else 400). Answers
   * one result per operation, as the single write would (undefined for an object removed).
   */
  transact(operations: readonly WriteOperation[], options?: WriteOptions): Promise<Array<AnyObject | undefined>>;
  watch(options: WatchOptions, handlers: WatchHandlers): Watch;
  /** The current store revision. */
  revision(): number;
  /** The oldest revision a watch can start from (history before it is compacted). */
  compactedRevision(): number;
  /** Drop history older than the newest `keep` changes. */
  compact(keep: number): Promise<void>;
  close(): Promise<void>;
}
