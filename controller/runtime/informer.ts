// The informer: lists every kind, then watches the store from the list revision, keeping a cache
// that the reconcilers read, with client-go style indexes over it. A watch that fails (store
// closed, 410 Gone, a throwing handler) is never left dead: the informer relists after a backoff
// delay, emits the differences as events, and watches again. Every event carries the object the
// cache held before, so no listener needs a copy of its own.
import type { Logger } from 'pino';
import { GoneError, InvariantError, UnavailableError } from '../../resources/errors.js';
import type { Store, Watch, WatchEvent } from '../../adapters/store/contract.js';
import { Lifecycle, type LifecycleState, type LongLived } from '../../adapters/support/lifecycle.js';
import { KINDS, type AnyObject, type Kind, type KindMap } from '../../schemas/types.js';
import type { Cache, ChangeEvent, Clock } from './types.js';
import { backoffDelay, type BackoffOptions } from './queue.js';
import { StringInterner } from '../../resources/intern.js';

export type InformerListener = (event: ChangeEvent) => void;

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

/** Up to this many names under one index value are kept in an array of their exact size; more in a Set. */
const SMALL_NAME_LIST = 8;
const NO_VALUES: readonly string[] = [];

/**
 * One index of one kind: object names by index value. The values an object had are computed again
 * from the object the cache held before (a cached object never changes), so the index keeps no
 * record per object; one name under a value is kept as the string, a few as an array: at 50,000
 * Loans those records and a Set per lender and per target were some 8 MB of hash tables.
 */
class Index {
  private readonly names = new Map<string, string | readonly string[] | Set<string>>();

  constructor(readonly keys: (object: AnyObject) => readonly string[]) {}

  /** Re-index one object: `previous` is what the cache held (undefined: nothing), `next` what it holds now (undefined: removed). */
  update(name: string, previous: AnyObject | undefined, next: AnyObject | undefined): void {
    const before = previous ? this.keys(previous) : NO_VALUES;
    const after = next ? this.keys(next) : NO_VALUES;
    for (const value of before) if (!after.includes(value)) this.remove(value, name);
    for (const value of after) if (!before.includes(value)) this.add(value, name);
  }

  /** The names indexed under `value`, for reading at once. */
  lookup(value: string): Iterable<string> {
    const held = this.names.get(value);
    return held === undefined ? NO_VALUES : typeof held === 'string' ? [held] : held;
  }

  private add(value: string, name: string): void {
    const held = this.names.get(value);
    if (held === undefined) this.names.set(value, name);
    else if (typeof held === 'string') {
      if (held !== name) this.names.set(value, [held, name]);
    } else if (held instanceof Set) held.add(name);
    // concat and slice allocate exactly the length (a spread or filter leaves room for 17 or more).
    else if (!held.includes(name)) this.names.set(value, held.length < SMALL_NAME_LIST ? held.concat(name) : new Set(held).add(name));
  }

  private remove(value: string, name: string): void {
    const held = this.names.get(value);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === name) this.names.delete(value);
    } else if (held instanceof Set) {
      held.delete(name);
      if (held.size === 0) this.names.delete(value);
    } else {
      const at = held.indexOf(name);
      if (at < 0) return;
      const rest = held.slice(0, at).concat(held.slice(at + 1));
      this.names.set(value, rest.length === 1 ? rest[0]! : rest);
    }
  }
}

export class Informer implements Cache, LongLived {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly kinds: readonly Kind[];
  private readonly retry: BackoffOptions;
  private readonly lifecycle = new Lifecycle('the informer');
  private readonly objects = new Map<Kind, Map<string, AnyObject>>();
  private readonly indexes = new Map<Kind, Map<string, Index>>();
  private readonly listeners: InformerListener[] = [];
  private readonly progressListeners: Array<() => void> = [];
  private readonly strings = new StringInterner();
  private watch: Watch | undefined;
  private reconnectTimer: unknown;
  private failures = 0;
  private seenRevision = 0;
  /** Relists after the first (each one follows a failed watch). */
  relists = 0;

  constructor(options: InformerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log;
    this.kinds = options.kinds ?? KINDS;
    this.retry = options.retry ?? DEFAULT_RETRY;
    for (const kind of this.kinds) {
      this.objects.set(kind, new Map());
      this.indexes.set(kind, new Map());
    }
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** Every change to a cached object, after the cache (and its indexes) reflect it. */
  onEvent(listener: InformerListener): void {
    this.listeners.push(listener);
  }

  /** After every store write the informer has seen, cached kind or not (to tell when it caught up). */
  onProgress(listener: () => void): void {
    this.progressListeners.push(listener);
  }

  /**
   * Keep `kind` objects findable by `keys(object)` (see byIndex), from now on and for what is
   * cached already. Registering the same function again under a name is a no-op; another is a bug.
   */
  addIndex<K extends Kind>(kind: K, name: string, keys: (object: KindMap[K]) => readonly string[]): void {
    const indexes = this.indexes.get(kind);
    if (!indexes) throw new InvariantError(`cannot index ${kind}: the informer does not cache that kind`);
    const existing = indexes.get(name);
    if (existing) {
      if (existing.keys !== keys) throw new InvariantError(`${kind} index "${name}" is already registered with another function`);
      return;
    }
    const index = new Index(keys as (object: AnyObject) => readonly string[]);
    for (const [objectName, object] of this.objects.get(kind) ?? []) index.update(objectName, undefined, object);
    indexes.set(name, index);
  }

  /** The first list and watch; a store that cannot be listed at start is an error for the caller. */
  start(): Promise<void> {
    return this.lifecycle.start(() => this.sync());
  }

  close(): Promise<void> {
    return this.lifecycle.close(() => {
      this.watch?.stop();
      this.watch = undefined;
      if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    });
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

  byIndex<K extends Kind>(kind: K, index: string, value: string): KindMap[K][] {
    const found = this.indexes.get(kind)?.get(index);
    if (!found) throw new InvariantError(`no ${kind} index "${index}": the controller reading it must declare it`);
    const objects = this.objects.get(kind);
    // The controllers ask this for every event of the first list (the loan graph): no copy of the names.
    const matches: KindMap[K][] = [];
    for (const name of found.lookup(value) ?? []) {
      const object = objects?.get(name);
      if (object) matches.push(object as KindMap[K]);
    }
    return matches;
  }

  private closing(): boolean {
    return this.lifecycle.is('closing', 'closed');
  }

  private async sync(): Promise<void> {
    const fresh = new Map<Kind, Map<string, AnyObject>>();
    let since = Number.POSITIVE_INFINITY;
    for (const kind of this.kinds) {
      const listed = await this.store.list(kind, { strings: this.strings });
      const objects = new Map<string, AnyObject>();
      for (const item of listed.items) objects.set(item.metadata.name, item);
      fresh.set(kind, objects);
      since = Math.min(since, listed.revision);
    }
    if (this.closing()) return;
    this.replaceAll(fresh, since);
    // Kinds were listed at (possibly) different revisions: watching from the oldest replays what
    // the later lists already hold, and apply() skips those by resourceVersion.
    this.watch = this.store.watch(
      { sinceRevision: since },
      {
        onEvent: (event) => this.apply(event),
        onError: (error) => this.watchFailed(error),
      },
    );
    this.failures = 0;
  }

  private replaceAll(fresh: Map<Kind, Map<string, AnyObject>>, revision: number): void {
    const previous = new Map<Kind, Map<string, AnyObject>>();
    for (const [kind, objects] of fresh) {
      const old = this.objects.get(kind) ?? new Map<string, AnyObject>();
      previous.set(kind, old);
      this.objects.set(kind, objects);
      for (const index of this.indexes.get(kind)?.values() ?? []) {
        for (const [name, object] of old) if (!objects.has(name)) index.update(name, object, undefined);
        for (const [name, object] of objects) index.update(name, old.get(name), object);
      }
    }
    this.seenRevision = revision;
    const initial = [...previous.values()].every((old) => old.size === 0);
    // Each event is made as it is emitted, once the whole cache is replaced: gathered first, the
    // events of a first list (60,000 objects) lived long enough to be promoted, then were garbage.
    for (const [kind, objects] of fresh) {
      const old = previous.get(kind)!;
      for (const [name, object] of objects) {
        const before = old.get(name);
        if (!before) this.emit({ type: 'ADDED', object, revision: revisionOf(object), resync: false, ...(initial ? { initialList: true } : {}) });
        else if (before.metadata.resourceVersion !== object.metadata.resourceVersion) this.emit({ type: 'MODIFIED', object, oldObject: before, revision: revisionOf(object), resync: false });
      }
      for (const [name, object] of old) if (!objects.has(name)) this.emit({ type: 'DELETED', object, oldObject: object, revision, resync: false });
    }
    for (const listener of this.progressListeners) listener();
  }

  private apply(event: WatchEvent): void {
    this.seenRevision = Math.max(this.seenRevision, event.revision);
    const change = this.cacheChange(event);
    if (change) this.emit(change);
    for (const listener of this.progressListeners) listener();
  }

  /** Apply a watch event to the cache; undefined when the cache already holds it or something newer. */
  private cacheChange(event: WatchEvent): ChangeEvent | undefined {
    const objects = this.objects.get(event.object.kind);
    if (!objects) return undefined;
    const name = event.object.metadata.name;
    const cached = objects.get(name);
    if (event.type === 'DELETED') {
      // A later re-create of the same name is newer than this delete.
      if (!cached || revisionOf(cached) > event.revision) return undefined;
      objects.delete(name);
      this.reindex(event.object.kind, name, cached, undefined);
      return { ...event, oldObject: cached, resync: false };
    }
    // Replayed history the lists already hold.
    if (cached && revisionOf(cached) >= event.revision) return undefined;
    this.strings.internAll(event.object);
    objects.set(name, event.object);
    this.reindex(event.object.kind, name, cached, event.object);
    return { ...event, ...(cached ? { oldObject: cached } : {}), resync: false };
  }

  private reindex(kind: Kind, name: string, previous: AnyObject | undefined, next: AnyObject | undefined): void {
    for (const index of this.indexes.get(kind)?.values() ?? []) index.update(name, previous, next);
  }

  private emit(event: ChangeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private watchFailed(error: Error): void {
    if (this.closing()) return;
    this.watch?.stop();
    this.watch = undefined;
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: Error): void {
    if (this.closing() || this.reconnectTimer !== undefined) return;
    this.failures += 1;
    // Gone only means "relist": do that at once, but back off if relisting keeps failing.
    const delay = error instanceof GoneError && this.failures === 1 ? 0 : backoffDelay(this.failures, this.retry);
    this.log.warn({ err: error, retryInMs: delay }, 'informer watch failed; relisting');
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.relists += 1;
      this.sync().catch((e: unknown) => this.scheduleReconnect(e instanceof Error ? e : new UnavailableError(`relisting failed: ${String(e)}`, { cause: e })));
    }, delay);
  }
}
