// The contract between the controller runtime (controller/runtime/) and the reconcilers built on it.
import type { Logger } from 'pino';
import type { Store, WatchEvent } from '../../adapters/store/contract.js';
import type { AnyObject, Kind, KindMap } from '../../schemas/types.js';

/** Time, injectable so tests can drive queues, backoff, expiry and stagger with a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (not an error: no backoff). */
  requeueAfter?: number;
}

/** Read-only view of the informers' caches (kept current by watch). */
export interface Cache {
  get<K extends Kind>(kind: K, name: string): KindMap[K] | undefined;
  list<K extends Kind>(kind: K): KindMap[K][];
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
  /** Keys a change affects (default: the object's own name). */
  keysFor?(event: WatchEvent): string[];
  /**
   * Level-triggered and idempotent: read current state, drive the node toward it. Throwing retries
   * with backoff, except TerminalError (resources/errors.ts), which is recorded and not retried.
   */
  reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult | void>;
}
