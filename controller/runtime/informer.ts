// The informer: lists every kind, then watches the store from the list revision, keeping a cache
// that the reconcilers read. A watch that fails (store closed, 410 Gone, a throwing handler) is
// never left dead: the informer relists after a backoff delay, emits the differences as events,
// and watches again.
import type { Logger } from 'pino';
import { GoneError } from '../../resources/errors.js';
import type { Store, Watch, WatchEvent } from '../../adapters/store/contract.js';
import { KINDS, type AnyObject, type Kind, type KindMap } from '../../schemas/types.js';
import type { Cache, Clock } from './types.js';
import { backoffDelay, type BackoffOptions } from './queue.js';

export type InformerListener = (event: WatchEvent) => void;

export interface InformerOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Kinds kept in the cache (all kinds if absent). */
  kinds?: readonly Kind[];
  /** Delay between reconnect attempts after a failed watch or list. */
  retry?: BackoffOptions;
}

const DEFAULT_RETRY: BackoffOptions = { baseDelayMs: 100, maxDelayMs: 30_000 };

function revisionOf(object: AnyObject): number {
  return Number(object.metadata.resourceVersion ?? 0);
}

export class Informer implements Cache {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly kinds: readonly Kind[];
  private readonly retry: BackoffOptions;
  private readonly objects = new Map<Kind, Map<string, AnyObject>>();
  private readonly listeners: InformerListener[] = [];
  private readonly progressListeners: Array<() => void> = [];
  private watch: Watch | undefined;
  private reconnectTimer: unknown;
  private failures = 0;
  private stopped = false;
  private seenRevision = 0;
  /** Relists after the first (each one follows a failed watch). */
  relists = 0;

  constructor(options: InformerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log;
    this.kinds = options.kinds ?? KINDS;
    this.retry = options.retry ?? DEFAULT_RETRY;
    for (const kind of this.kinds) this.objects.set(kind, new Map());
  }

  /** Every change to a cached object, after the cache reflects it. */
  onEvent(listener: InformerListener): void {
    this.listeners.push(listener);
  }

  /** After every store write the informer has seen, cached kind or not (to tell when it caught up). */
  onProgress(listener: () => void): void {
    this.progressListeners.push(listener);
  }

  /** The first list and watch; a store that cannot be listed at start is an error for the caller. */
  async start(): Promise<void> {
    await this.sync();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.watch = undefined;
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  /** True when the cache reflects every store write up to `revision` and a watch is running. */
  hasSeen(revision: number): boolean {
    return this.watch !== undefined && this.seenRevision >= revision;
  }

  isWatching(): boolean {
    return this.watch !== undefined;
  }

  get<K extends Kind>(kind: K, name: string): KindMap[K] | undefined {
    return this.objects.get(kind)?.get(name) as KindMap[K] | undefined;
  }

  list<K extends Kind>(kind: K): KindMap[K][] {
    return [...(this.objects.get(kind)?.values() ?? [])] as KindMap[K][];
  }

  private async sync(): Promise<void> {
    const fresh = new Map<Kind, Map<string, AnyObject>>();
    let since = Number.POSITIVE_INFINITY;
    for (const kind of this.kinds) {
      const listed = await this.store.list(kind);
      fresh.set(kind, new Map(listed.items.map((item) => [item.metadata.name, item as AnyObject])));
      since = Math.min(since, listed.revision);
    }
    if (this.stopped) return;
    this.replaceAll(fresh, since);
    // Kinds were listed at (possibly) different revisions: watching from the oldest replays what
    // the later lists already hold, and apply() skips those by resourceVersion.
    this.watch = this.store.watch({ sinceRevision: since }, {
      onEvent: (event) => this.apply(event),
      onError: (error) => this.watchFailed(error),
    });
    this.failures = 0;
  }

  private replaceAll(fresh: Map<Kind, Map<string, AnyObject>>, revision: number): void {
    const changes: WatchEvent[] = [];
    for (const [kind, objects] of fresh) {
      const old = this.objects.get(kind) ?? new Map<string, AnyObject>();
      for (const [name, object] of objects) {
        const before = old.get(name);
        if (!before) changes.push({ type: 'ADDED', object, revision: revisionOf(object) });
        else if (before.metadata.resourceVersion !== object.metadata.resourceVersion) changes.push({ type: 'MODIFIED', object, revision: revisionOf(object) });
      }
      for (const [name, object] of old) if (!objects.has(name)) changes.push({ type: 'DELETED', object, revision });
      this.objects.set(kind, objects);
    }
    this.seenRevision = revision;
    for (const change of changes) this.emit(change);
    for (const listener of this.progressListeners) listener();
  }

  private apply(event: WatchEvent): void {
    this.seenRevision = Math.max(this.seenRevision, event.revision);
    if (this.cacheChange(event)) this.emit(event);
    for (const listener of this.progressListeners) listener();
  }

  /** Apply a watch event to the cache; false when the cache already holds it or something newer. */
  private cacheChange(event: WatchEvent): boolean {
    const objects = this.objects.get(event.object.kind);
    if (!objects) return false;
    const name = event.object.metadata.name;
    const cached = objects.get(name);
    if (event.type === 'DELETED') {
      // A later re-create of the same name is newer than this delete.
      if (!cached || revisionOf(cached) > event.revision) return false;
      objects.delete(name);
      return true;
    }
    // Replayed history the lists already hold.
    if (cached && revisionOf(cached) >= event.revision) return false;
    objects.set(name, event.object);
    return true;
  }

  private emit(event: WatchEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private watchFailed(error: Error): void {
    if (this.stopped) return;
    this.watch?.stop();
    this.watch = undefined;
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: Error): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    this.failures += 1;
    // Gone only means "relist": do that at once, but back off if relisting keeps failing.
    const delay = error instanceof GoneError && this.failures === 1 ? 0 : backoffDelay(this.failures, this.retry);
    this.log.warn({ err: error, retryInMs: delay }, 'informer watch failed; relisting');
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.relists += 1;
      this.sync().catch((e: unknown) => this.scheduleReconnect(e instanceof Error ? e : new Error(String(e))));
    }, delay);
  }
}
