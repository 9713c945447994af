// A store backend on etcd 3 (the npm client `etcd3`). Each object is two etcd keys under the
// store's prefix: `spec/<Kind>/<name>` (the object without status) and `status/<Kind>/<name>` (its
// status, absent until it has one), so etcd's RBAC can let a fleet node write statuses but not specs
// (docs/fleet.md). Revisions are etcd's own: resourceVersion = the newer mod_revision of the two.
// Like kube-apiserver's watch cache, the store keeps a copy of its prefix in memory, fed by one
// etcd watch over both parts (a write's keys share one revision and arrive together, so each write
// is one watch event per object), so reads, lists and watch fan-out never wait for etcd; a write
// is an etcd txn that compares the mod_revision of every key it plans from, so a second writer
// (another fleet API) makes it re-plan on fresh data instead of overwriting. Writes are sent one at
// a time, in order: each gets its own etcd revision, increasing in submission order, as the contract
// says; writes that belong together are batched by the caller into one `transact` (one etcd txn).
import { Etcd3, isRecoverableError, type IEvent, type IKeyValue, type IOptions, type IRequestOp, type ICompare, type Watcher } from 'etcd3';
import { BadRequestError, GoneError, StorageError, UnavailableError } from '../../resources/errors.js';
import { StoreBase } from './engine.js';
import type { Watch, WatchHandlers, WatchOptions, WriteOptions } from './contract.js';
import { planTransaction, type PlanContext, type WriteOperation } from '../../resources/store-rules.js';
import type { AnyObject, Kind } from '../../schemas/types.js';
import { jsonEqual } from '../../resources/equal.js';
import { WatchHub, assertHistoryKept, type RecordedChange } from './watch-hub.js';

export interface EtcdStoreOptions {
  /** etcd client endpoints, e.g. `http://127.0.0.1:2379`. */
  hosts: string[];
  /** Every key of this store starts with it (default `/slv/`), so several stores can share a cluster. */
  prefix?: string;
  /** Objects read carry this metadata.namespace (a fleet node's view); it is never stored. */
  namespace?: string;
  /** Share this connection instead of opening one (then close() leaves it open). */
  client?: Etcd3;
  /** How many changes of history a watch can replay from memory (older starts are 410 Gone). */
  historyLimit?: number;
  /** etcd user and password (etcd RBAC). */
  auth?: { username: string; password: string };
  /** TLS to etcd: passed to the etcd3 client as is. */
  credentials?: IOptions['credentials'];
}

/** The two keys of an object: the object without status, and its status. */
export type ObjectPart = 'spec' | 'status';

/** The key of one part of an object under a store's prefix. */
export function partKey(prefix: string, part: ObjectPart, kind: Kind, name: string): string {
  return `${prefix}${part}/${kind}/${name}`;
}

interface StoredPart {
  value: string;
  modRevision: number;
}

/** One object's keys as etcd holds them, and the object readers see (only while it has a spec key). */
interface Cached {
  spec?: StoredPart;
  status?: StoredPart;
  /** The object's JSON with its status and metadata.resourceVersion = the newer mod_revision. */
  data?: string;
}

/** How many etcd txns this store committed, and how many key writes (puts and deletes) they held. */
export interface EtcdWriteStats {
  txns: number;
  keyWrites: number;
}

interface Waiter {
  ready(): boolean;
  resolve(): void;
}

/** `etcd://h1:2379,h2:2379/prefix` → client endpoints and key prefix. */
export function parseEtcdUrl(url: string): { hosts: string[]; prefix: string } {
  const match = /^etcds?:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!match) throw new StorageError(`etcd URL "${url}" must look like etcd://host:port[,host:port...][/prefix/]`);
  const scheme = url.startsWith('etcds:') ? 'https' : 'http';
  const hosts = match[1]!.split(',').map((host) => `${scheme}://${host}`);
  const path = match[2] ?? '/slv/';
  return { hosts, prefix: path.endsWith('/') ? path : `${path}/` };
}

/** Attempts at a call that failed because etcd was briefly unreachable (about 5 s in all). */
const TRANSIENT_ATTEMPTS = 4;

/**
 * etcd refuses a txn with more than --max-txn-ops (default 128) compares; a write compares the two
 * keys of each object it touches, so a transaction may hold this many objects.
 */
export const MAX_OBJECTS_PER_TXN = 64;

/** Calls that get no answer in this time fail (UnavailableError) instead of waiting for etcd. */
const CALL_TIMEOUT_MS = 5000;

/** An etcd client whose unary calls give up after CALL_TIMEOUT_MS (watches stay open). */
export function etcdClient(options: Pick<EtcdStoreOptions, 'hosts' | 'auth' | 'credentials'>): Etcd3 {
  return new Etcd3({
    hosts: options.hosts,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
  });
}

export class EtcdStore extends StoreBase {
  private readonly client: Etcd3;
  private readonly ownClient: boolean;
  private readonly prefix: string;
  private readonly namespace: string | undefined;
  private readonly historyLimit: number;
  /** By `<Kind>/<name>`. */
  private readonly cache = new Map<string, Cached>();
  private history: RecordedChange[] = [];
  private currentRevision = 0;
  /** Watches may start at or after this revision: where the cache began, or history was dropped. */
  private historyStart = 0;
  private readonly hub = new WatchHub();
  private waiters: Waiter[] = [];
  private cacheWatcher: Watcher | undefined;
  /** The last write in flight: writes go to etcd one after another. */
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly written: EtcdWriteStats = { txns: 0, keyWrites: 0 };

  private constructor(options: EtcdStoreOptions) {
    super();
    this.prefix = options.prefix ?? '/slv/';
    this.namespace = options.namespace;
    this.historyLimit = options.historyLimit ?? 100_000;
    this.ownClient = !options.client;
    this.client = options.client ?? etcdClient(options);
  }

  /** Connect, load the prefix into memory and start following it. */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.relist();
    } catch (error) {
      if (store.ownClient) store.client.close();
      throw new StorageError(`cannot load the store from etcd at ${options.hosts.join(',')}: ${(error as Error).message}`, { cause: error });
    }
    return store;
  }

  // ---- the in-memory copy -------------------------------------------------------------------

  /** Load every key of the prefix at one revision, then watch from the next one. */
  private async relist(): Promise<void> {
    const response = await this.client.getAll().prefix(this.prefix).exec();
    const revision = Number(response.header.revision);
    this.cache.clear();
    for (const kv of response.kvs) this.keep(kv.key.toString(), kv);
    for (const [id, entry] of this.cache) this.compose(id, entry);
    this.history = [];
    this.currentRevision = revision;
    this.historyStart = revision;
    await this.follow(revision + 1);
  }

  /** `<prefix><part>/<Kind>/<name>` → the object's id `<Kind>/<name>` and the part; undefined for other keys. */
  private parseKey(key: string): { id: string; part: ObjectPart } | undefined {
    const rest = key.slice(this.prefix.length);
    const slash = rest.indexOf('/');
    const part = rest.slice(0, slash);
    if (part !== 'spec' && part !== 'status') return undefined;
    return { id: rest.slice(slash + 1), part };
  }

  /** Record one key's new value (or its deletion) in the copy; the object is composed afterwards. */
  private keep(key: string, kv: IKeyValue | undefined): void {
    const parsed = this.parseKey(key);
    if (!parsed) return;
    const entry = this.cache.get(parsed.id) ?? {};
    if (kv) entry[parsed.part] = { value: kv.value.toString(), modRevision: Number(kv.mod_revision) };
    else delete entry[parsed.part];
    this.cache.set(parsed.id, entry);
  }

  /** The object as readers see it (status joined, resourceVersion, the view's namespace), or none without a spec key. */
  private compose(id: string, entry: Cached): void {
    if (!entry.spec) {
      if (!entry.status) this.cache.delete(id);
      delete entry.data;
      return;
    }
    const object = JSON.parse(entry.spec.value) as AnyObject;
    if (entry.status) object.status = JSON.parse(entry.status.value) as AnyObject['status'];
    entry.data = this.present(object, Math.max(entry.spec.modRevision, entry.status?.modRevision ?? 0));
  }

  private present(object: AnyObject, revision: number): string {
    object.metadata.resourceVersion = String(revision);
    if (this.namespace !== undefined) object.metadata.namespace = this.namespace;
    return JSON.stringify(object);
  }

  private async follow(fromRevision: number): Promise<void> {
    const watcher = await this.client.watch().prefix(this.prefix).startRevision(String(fromRevision)).create();
    if (this.closed) return void (await watcher.cancel());
    this.cacheWatcher = watcher;
    watcher.on('data', (response) => {
      this.apply(response.events);
      this.wake();
    });
    watcher.on('error', (error: Error) => void this.lostHistory(watcher, error));
  }

  /**
   * etcd ended the watch (it compacted the revisions the watch still needed): relist, then tell
   * every watcher to relist too, from the fresh copy.
   */
  private async lostHistory(watcher: Watcher, error: Error): Promise<void> {
    if (this.closed || watcher !== this.cacheWatcher) return;
    // etcd already canceled it (the client dropped it then): nothing to cancel here.
    this.cacheWatcher = undefined;
    while (!this.closed) {
      try {
        await this.relist();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    this.hub.closeAll(new GoneError(`the etcd watch ended (${error.message}); relist and watch from the list's revision`));
    this.wake();
  }

  /** Apply etcd's events revision by revision: one change per object a revision touched (its spec, its status or both). */
  private apply(events: IEvent[]): void {
    for (let i = 0; i < events.length; ) {
      const revision = Number(events[i]!.kv.mod_revision);
      const before = new Map<string, string | undefined>();
      for (; i < events.length && Number(events[i]!.kv.mod_revision) === revision; i++) {
        const event = events[i]!;
        const key = event.kv.key.toString();
        const id = this.parseKey(key)?.id;
        if (id !== undefined && !before.has(id)) before.set(id, this.cache.get(id)?.data);
        this.keep(key, event.type === 'Delete' ? undefined : event.kv);
      }
      for (const [id, was] of before) this.record(id, was, revision);
      this.currentRevision = Math.max(this.currentRevision, revision);
    }
  }

  private record(id: string, was: string | undefined, revision: number): void {
    const entry = this.cache.get(id) ?? {};
    this.compose(id, entry);
    let change: RecordedChange;
    const kind = id.slice(0, id.indexOf('/')) as Kind;
    if (entry.data !== undefined) change = { type: was === undefined ? 'ADDED' : 'MODIFIED', kind, data: entry.data, revision };
    else if (was !== undefined) change = { type: 'DELETED', kind, data: this.present(JSON.parse(was) as AnyObject, revision), revision };
    else return; // a status without its object: not an object of this store
    this.history.push(change);
    if (this.history.length > this.historyLimit * 1.1) this.dropHistoryBefore(this.history[this.history.length - this.historyLimit]!.revision);
    this.hub.publish(change);
  }

  private dropHistoryBefore(revision: number): void {
    this.history = this.history.filter((change) => change.revision >= revision);
    this.historyStart = Math.max(this.historyStart, revision - 1);
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.ready()) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  /** Settles once the in-memory copy satisfies `ready` (it follows etcd's watch). */
  private until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  // ---- reads --------------------------------------------------------------------------------

  protected readData(kind: Kind, name: string): string | undefined {
    return this.cache.get(`${kind}/${name}`)?.data;
  }

  protected listData(kind: Kind): Iterable<string> {
    const start = `${kind}/`;
    return [...this.cache.entries()]
      .filter(([id, entry]) => id.startsWith(start) && entry.data !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => entry.data!);
  }

  revision(): number {
    return this.currentRevision;
  }

  compactedRevision(): number {
    return this.historyStart;
  }

  /** What this store has written so far: etcd txns and the key writes in them. */
  writeStats(): EtcdWriteStats {
    return { ...this.written };
  }

  // ---- writes -------------------------------------------------------------------------------

  protected submit(operations: readonly WriteOperation[], options: WriteOptions): Promise<Array<AnyObject | undefined>> {
    try {
      this.assertOpen();
      if (options.dryRun) return Promise.resolve(this.inNamespace(planTransaction(operations, this.planContext(this.currentRevision + 1)).results));
    } catch (error) {
      return Promise.reject(error);
    }
    const write = this.writes.then(() => this.commit(operations));
    this.writes = write.catch(() => undefined);
    return write;
  }

  /**
   * Plan the operations on the in-memory copy and commit them as one etcd txn guarded by the
   * mod_revision of both keys of every object they touch, writing only the parts that changed (a
   * status write puts only the status key). If another writer got there first, wait until the copy
   * shows its change and plan again (then a stale resourceVersion is the client's 409).
   */
  private async commit(operations: readonly WriteOperation[]): Promise<Array<AnyObject | undefined>> {
    for (;;) {
      this.assertOpen();
      const { results, changes } = planTransaction(operations, this.planContext(this.currentRevision + 1));
      if (changes.length > MAX_OBJECTS_PER_TXN) throw new BadRequestError(`an etcd transaction may change at most ${MAX_OBJECTS_PER_TXN} objects; this one changes ${changes.length}`);
      const compare: ICompare[] = [];
      const success: IRequestOp[] = [];
      const touched: string[] = [];
      for (const { type, object } of changes) {
        const entry = this.cache.get(`${object.kind}/${object.metadata.name}`);
        const keys = { spec: partKey(this.prefix, 'spec', object.kind, object.metadata.name), status: partKey(this.prefix, 'status', object.kind, object.metadata.name) };
        for (const part of ['spec', 'status'] as const) {
          touched.push(keys[part]);
          compare.push({ key: Buffer.from(keys[part]), target: 'Mod', result: 'Equal', mod_revision: String(entry?.[part]?.modRevision ?? 0) });
        }
        const { status, ...rest } = object;
        const { resourceVersion: _planned, ...metadata } = rest.metadata;
        if (this.namespace !== undefined) delete metadata.namespace;
        const wanted = { spec: type === 'DELETED' ? undefined : { ...rest, metadata }, status: type === 'DELETED' ? undefined : status };
        for (const part of ['spec', 'status'] as const) {
          const stored = entry?.[part];
          if (wanted[part] === undefined) {
            if (stored) success.push({ request_delete_range: { key: Buffer.from(keys[part]) } });
          } else if (!stored || !jsonEqual(JSON.parse(stored.value), wanted[part])) {
            success.push({ request_put: { key: Buffer.from(keys[part]), value: Buffer.from(JSON.stringify(wanted[part])) } });
          }
        }
      }
      if (success.length === 0) return this.inNamespace(results);
      const failure: IRequestOp[] = touched.map((key) => ({ request_range: { key: Buffer.from(key) } }));
      const response = await this.etcd('commit a write', () => this.client.kv.txn({ compare, success, failure }));
      const revision = Number(response.header.revision);
      if (response.succeeded) {
        this.written.txns++;
        this.written.keyWrites += success.length;
        await this.until(() => this.currentRevision >= revision);
        // Only the objects the txn wrote are at its revision; an unchanged one keeps its version.
        const written = new Set(changes.map((change) => `${change.object.kind}/${change.object.metadata.name}`));
        for (const result of results) if (result && written.has(`${result.kind}/${result.metadata.name}`)) result.metadata.resourceVersion = String(revision);
        return this.inNamespace(results);
      }
      // Someone else changed a key: wait until the copy holds what etcd answered, then re-plan.
      const current = response.responses.map((op, i) => ({ key: touched[i]!, kv: op.response_range.kvs[0] }));
      await this.until(() =>
        current.every(({ key, kv }) => {
          const parsed = this.parseKey(key)!;
          const cached = this.cache.get(parsed.id)?.[parsed.part];
          if (kv) return (cached?.modRevision ?? 0) >= Number(kv.mod_revision);
          return cached === undefined || cached.modRevision > revision;
        }),
      );
    }
  }

  /** Plans see objects as stored: without the view's namespace. */
  protected override planContext(revision: number): PlanContext {
    const context = super.planContext(revision);
    return {
      ...context,
      read: (kind, name) => {
        const object = context.read(kind, name);
        if (object) delete object.metadata.namespace;
        return object;
      },
    };
  }

  private inNamespace(results: Array<AnyObject | undefined>): Array<AnyObject | undefined> {
    if (this.namespace !== undefined) for (const result of results) if (result) result.metadata.namespace = this.namespace;
    return results;
  }

  /**
   * Run an etcd call; a failure becomes UnavailableError naming what was being done. While a member
   * is down or a leader is being elected, the client refuses calls for a few seconds (its circuit
   * breakers): retry for about that long first. A retried txn is safe, its compares guard it.
   */
  private async etcd<T>(doing: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const transient = isRecoverableError(error as Error) || (error as { isBrokenCircuitError?: boolean }).isBrokenCircuitError === true;
        if (!transient || attempt >= TRANSIENT_ATTEMPTS || this.closed) {
          throw new UnavailableError(`etcd could not ${doing}: ${(error as Error).message}`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, attempt * 500));
      }
    }
  }

  // ---- watch --------------------------------------------------------------------------------

  watch(options: WatchOptions, handlers: WatchHandlers): Watch {
    this.assertOpen();
    const since = options.sinceRevision ?? this.currentRevision;
    assertHistoryKept(since, this.historyStart);
    return this.hub.add(
      options.kind,
      handlers,
      this.history.filter((change) => change.revision > since),
    );
  }

  // ---- maintenance --------------------------------------------------------------------------

  /** Compact etcd's history (for every store on the cluster) and the in-memory one. */
  async compact(keep: number): Promise<void> {
    this.assertOpen();
    await this.writes;
    const below = this.currentRevision - keep;
    if (below <= this.historyStart) return;
    // etcd keeps revisions >= the compaction revision, so watching "after `below`" stays possible.
    const revision = String(Math.min(below + 1, this.currentRevision));
    await this.etcd('compact its history', () => this.client.kv.compact({ revision, physical: true }));
    this.dropHistoryBefore(below + 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes;
    this.closed = true;
    this.hub.closeAll(new UnavailableError('store closed'));
    await this.cacheWatcher?.cancel().catch(() => undefined);
    if (this.ownClient) this.client.close();
  }

  protected assertOpen(): void {
    if (this.closed) throw new UnavailableError(`etcd store ${this.prefix} is closed`);
  }
}

export function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdStore> {
  return EtcdStore.open(options);
}
