// The contract between the controller runtime (controller/runtime/) and the reconcilers built on it.
import type { Logger } from 'pino';
import type { Store, WatchEvent } from '../../adapters/store/contract.js';
import type { LongLived } from '../../adapters/support/lifecycle.js';
import type { AnyObject, Kind, KindMap } from '../../schemas/types.js';

/** Time, injectable so tests can drive queues, backoff, expiry and stagger with a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * A change as the informer delivers it: the store's event, plus the object the cache held before
 * (MODIFIED and DELETED, when the cache had it) and whether it is a periodic resync, which
 * re-delivers an unchanged object (then `oldObject` is `object`).
 */
export interface ChangeEvent<T extends AnyObject = AnyObject> extends WatchEvent<T> {
  oldObject?: T;
  resync: boolean;
  /**
   * An ADDED of a list into an empty cache (the informer's first): every cached object gets one,
   * each emitted once the cache holds them all, so a keysFor need not queue an object's neighbours
   * for it (their own events queue them). Absent for every other event, relists included.
   */
  initialList?: true;
}

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (not an error: no backoff). */
  requeueAfter?: number;
}

/** Read-only view of the informers' caches (kept current by watch). */
export interface Cache {
  get<K extends Kind>(kind: K, name: string): KindMap[K] | undefined;
  list<K extends Kind>(kind: K): KindMap[K][];
  /** The cached objects whose index `index` (see IndexDefinition) holds `value`. */
  byIndex<K extends Kind>(kind: K, index: string, value: string): KindMap[K][];
}

/** A client-go style indexer: the cache keeps objects of `kind` findable by the values `keys` returns. */
export interface IndexDefinition<K extends Kind = Kind> {
  kind: K;
  name: string;
  /** The index values of an object (none: the object is not in this index); a function of the object alone. */
  keys(object: KindMap[K]): readonly string[];
}

/** Records Events on objects; repeats of the same reason and message are aggregated. */
export interface EventRecorder {
  normal(object: AnyObject, reason: string, message: string): void;
  warning(object: AnyObject, reason: string, message: string): void;
}

export interface ReconcileContext {
  store: Store;
  cache: Cache;
  log: Logger;
  events: EventRecorder;
  clock: Clock;
}

export interface Reconciler {
  /** Controller name: metrics label `controller`, logger field, event source. */
  readonly name: string;
  /** Kinds whose changes enqueue keys. */
  readonly watches: readonly Kind[];
  /** Indexes this controller reads through `cache.byIndex`; the manager registers them on the informer. */
  readonly indexes?: readonly IndexDefinition[];
  /** Keys a change affects (default: the object's own name). The cache already reflects the change. */
  keysFor?(event: ChangeEvent, cache: Cache): string[];
  /**
   * Level-triggered and idempotent: read current state, drive the node toward it. Throwing retries
   * with backoff, except TerminalError (resources/errors.ts), which is recorded and not retried.
   */
  reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult | void>;
}

/** A registered controller: how code outside the store's changes (a timer, slvd) queues its keys. */
export interface ControllerHandle {
  readonly name: string;
  enqueue(key: string): void;
}

/**
 * A long-lived part the manager starts after the cache is synced and closes (in reverse order)
 * before its controllers: pollers, periodic sweeps, status writers.
 */
export interface Runnable extends LongLived {
  readonly name: string;
}
