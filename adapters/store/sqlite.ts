// The embedded store backend: one SQLite file (better-sqlite3, WAL, synchronous=FULL).
// Writes are queued and committed as a group, one transaction per event-loop turn, so many writes
// arriving together share one fsync; each write's promise settles only after its commit is durable.
import { randomUUID } from 'node:crypto';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { jsonEqual } from '../../resources/equal.js';
import { AlreadyExistsError, ConflictError, GoneError, InvalidError, NotFoundError, SlvError, StorageError, UnavailableError } from '../../resources/errors.js';
import { matchesSelector, parseSelector } from '../../resources/selectors.js';
import type {
  DeleteOptions,
  ListOptions,
  ListResult,
  Store,
  Watch,
  WatchEventType,
  WatchHandlers,
  WatchOptions,
  WriteOptions,
} from '../../resources/store.js';
import { API_VERSION, type AnyObject, type Kind, type KindMap, type ObjectMeta } from '../../resources/types.js';
import { kindOf, validateObject } from '../../resources/validation.js';

/** `PRAGMA application_id` of slv store files ("SLV1"): anything else is a foreign database. */
const APPLICATION_ID = 0x534c5631;
const SCHEMA_VERSION = 1;

export interface SqliteStoreOptions {
  /** How many changes of history a watch can replay; older ones are compacted. */
  historyLimit?: number;
}

type Operation =
  | { type: 'create'; object: AnyObject }
  | { type: 'update'; object: AnyObject }
  | { type: 'updateStatus'; object: AnyObject }
  | { type: 'delete'; kind: Kind; name: string; resourceVersion?: string };

/** What one operation decided: the stored object afterwards, and the change to record (if any). */
interface Plan {
  result: AnyObject | undefined;
  change?: { type: WatchEventType; object: AnyObject };
}

interface Pending {
  operation: Operation;
  resolve(value: AnyObject | undefined): void;
  reject(error: unknown): void;
}

/** A committed change as kept for watchers: each watcher parses its own copy. */
interface RecordedChange {
  type: WatchEventType;
  kind: Kind;
  data: string;
  revision: number;
}

interface Watcher {
  kind?: Kind;
  handlers: WatchHandlers;
  buffer: RecordedChange[];
  draining: boolean;
  stopped: boolean;
}

function nowTimestamp(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A clear StorageError for a file SQLite could not open or read. */
function describeOpenFailure(file: string, error: unknown): StorageError {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StorageError(`store file ${file} is not a usable slv database (corrupt or not SQLite): ${message}; nothing was changed`);
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new StorageError(`cannot open store file ${file}: ${message} (check that the data dir exists and is writable by this user)`);
  }
  return new StorageError(`cannot open store file ${file}: ${message}`);
}

function checkDataDir(file: string): void {
  const dir = dirname(file);
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw new StorageError(`data dir ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new StorageError(`data dir ${dir} is not a directory`);
  try {
    accessSync(dir, fsConstants.W_OK | fsConstants.X_OK);
    if (existsSync(file)) accessSync(file, fsConstants.R_OK | fsConstants.W_OK);
  } catch {
    throw new StorageError(`permission denied: this user (uid ${process.getuid?.() ?? '?'}) cannot write ${existsSync(file) ? file : dir}`);
  }
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly historyLimit: number;
  private currentRevision: number;
  private oldestRevision: number;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly watchers = new Set<Watcher>();
  private readonly statements;

  constructor(readonly file: string, options: SqliteStoreOptions = {}) {
    this.historyLimit = options.historyLimit ?? 100_000;
    checkDataDir(file);
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (error) {
      throw describeOpenFailure(file, error);
    }
    try {
      SqliteStore.prepareSchema(db, file);
    } catch (error) {
      db.close();
      throw error instanceof SlvError ? error : describeOpenFailure(file, error);
    }
    this.db = db;
    this.statements = {
      get: db.prepare<[string, string], { data: string }>('SELECT data FROM objects WHERE kind = ? AND name = ?'),
      list: db.prepare<[string], { data: string }>('SELECT data FROM objects WHERE kind = ? ORDER BY name'),
      put: db.prepare('INSERT INTO objects (kind, name, revision, data) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET revision = excluded.revision, data = excluded.data'),
      remove: db.prepare('DELETE FROM objects WHERE kind = ? AND name = ?'),
      history: db.prepare('INSERT INTO history (revision, kind, name, type, data) VALUES (?, ?, ?, ?, ?)'),
      historySince: db.prepare<[number], { revision: number; kind: string; type: string; data: string }>('SELECT revision, kind, type, data FROM history WHERE revision > ? ORDER BY revision'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      compactBelow: db.prepare('DELETE FROM history WHERE revision <= ?'),
    };
    this.currentRevision = Number(SqliteStore.readMeta(db, 'revision') ?? 0);
    this.oldestRevision = Number(SqliteStore.readMeta(db, 'compacted_revision') ?? 0);
  }

  private static readMeta(db: Database.Database, key: string): string | undefined {
    return db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  /** Check the file is ours (or new), then make sure the schema exists. */
  private static prepareSchema(db: Database.Database, file: string): void {
    const integrity = db.pragma('quick_check', { simple: true });
    if (integrity !== 'ok') throw new StorageError(`store file ${file} is corrupt (quick_check: ${String(integrity)}); nothing was changed`);
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const tableCount = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (applicationId !== APPLICATION_ID && (applicationId !== 0 || tableCount > 0)) {
      throw new StorageError(`store file ${file} is a SQLite database of another application (application_id ${applicationId}); refusing to touch it`);
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StorageError(`store file ${file} has schema version ${version}, newer than this slv understands (${SCHEMA_VERSION})`);
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    if (version === SCHEMA_VERSION) return;
    db.transaction(() => {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE objects (kind TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name));
        CREATE TABLE history (revision INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL);
      `);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  // ---- reads --------------------------------------------------------------------------------

  private read(kind: Kind, name: string): AnyObject | undefined {
    const row = this.statements.get.get(kind, name);
    return row ? (JSON.parse(row.data) as AnyObject) : undefined;
  }

  async get<K extends Kind>(kind: K, name: string): Promise<KindMap[K]> {
    const object = await this.tryGet(kind, name);
    if (!object) throw new NotFoundError(kind, name);
    return object;
  }

  async tryGet<K extends Kind>(kind: K, name: string): Promise<KindMap[K] | undefined> {
    this.assertOpen();
    return this.read(kind, name) as KindMap[K] | undefined;
  }

  async list<K extends Kind>(kind: K, options: ListOptions = {}): Promise<ListResult<KindMap[K]>> {
    this.assertOpen();
    const requirements = options.labelSelector ? parseSelector(options.labelSelector) : [];
    const items: KindMap[K][] = [];
    for (const row of this.statements.list.all(kind)) {
      const object = JSON.parse(row.data) as KindMap[K];
      if (matchesSelector(requirements, object.metadata.labels)) items.push(object);
    }
    return { items, revision: this.currentRevision };
  }

  revision(): number {
    return this.currentRevision;
  }

  compactedRevision(): number {
    return this.oldestRevision;
  }

  // ---- writes -------------------------------------------------------------------------------

  create<T extends AnyObject>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.submit({ type: 'create', object }, options) as Promise<T>;
  }

  update<T extends AnyObject>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.submit({ type: 'update', object }, options) as Promise<T>;
  }

  updateStatus<T extends AnyObject>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.submit({ type: 'updateStatus', object }, options) as Promise<T>;
  }

  delete<K extends Kind>(kind: K, name: string, options: DeleteOptions = {}): Promise<KindMap[K] | undefined> {
    return this.submit({ type: 'delete', kind, name, ...(options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion }) }, options) as Promise<
      KindMap[K] | undefined
    >;
  }

  private submit(operation: Operation, options: WriteOptions): Promise<AnyObject | undefined> {
    try {
      this.assertOpen();
      if (options.dryRun) return Promise.resolve(this.plan(operation, this.currentRevision + 1).result);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ operation, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit every queued write in one transaction, then acknowledge each and notify watchers. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: AnyObject | undefined } | { ok: false; error: unknown }> = [];
    const events: RecordedChange[] = [];
    let revision = this.currentRevision;
    const applyOne = this.db.transaction((operation: Operation) => {
      const plan = this.plan(operation, revision + 1);
      if (plan.change) {
        revision += 1;
        const data = this.record(plan.change.type, plan.change.object, revision);
        events.push({ type: plan.change.type, kind: plan.change.object.kind, data, revision });
      }
      return plan.result;
    });
    try {
      this.db.transaction(() => {
        for (const { operation } of batch) {
          const before = revision;
          const eventCount = events.length;
          try {
            outcomes.push({ ok: true, value: applyOne(operation) });
          } catch (error) {
            // The nested transaction rolled this one operation back; the batch goes on.
            revision = before;
            events.length = eventCount;
            outcomes.push({ ok: false, error });
          }
        }
        if (revision !== this.currentRevision) this.statements.setMeta.run('revision', String(revision));
      })();
    } catch (error) {
      const failure = new StorageError(`store commit failed: ${(error as Error).message}`);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.currentRevision = revision;
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
    for (const event of events) this.publish(event);
    if (revision - this.oldestRevision > this.historyLimit * 1.1) this.compactTo(revision - this.historyLimit);
  }

  /** Write one change to the objects and history tables; returns the serialized object. */
  private record(type: WatchEventType, object: AnyObject, revision: number): string {
    const { kind } = object;
    const { name } = object.metadata;
    const data = JSON.stringify(object);
    if (type === 'DELETED') this.statements.remove.run(kind, name);
    else this.statements.put.run(kind, name, revision, data);
    this.statements.history.run(revision, kind, name, type, data);
    return data;
  }

  /** Decide what an operation does against the current state; throws the typed error if refused. */
  private plan(operation: Operation, nextRevision: number): Plan {
    switch (operation.type) {
      case 'create':
        return this.planCreate(operation.object, nextRevision);
      case 'update':
        return this.planUpdate(operation.object, nextRevision);
      case 'updateStatus':
        return this.planUpdateStatus(operation.object, nextRevision);
      case 'delete':
        return this.planDelete(operation.kind, operation.name, operation.resourceVersion, nextRevision);
    }
  }

  private static identify(object: unknown): { kind: Kind; name: string } {
    const candidate = object as Partial<AnyObject> | null;
    if (typeof candidate !== 'object' || candidate === null) throw new InvalidError('object must be a JSON object');
    const kind = kindOf(candidate);
    const name = candidate.metadata?.name;
    if (typeof name !== 'string' || !name) throw new InvalidError('metadata.name is required', [{ field: 'metadata.name', message: 'required field is missing' }]);
    return { kind, name };
  }

  private planCreate(input: AnyObject, revision: number): Plan {
    const { kind, name } = SqliteStore.identify(input);
    const candidate = {
      apiVersion: API_VERSION,
      kind,
      metadata: {
        ...userMetadata(input.metadata),
        name,
        uid: randomUUID(),
        resourceVersion: String(revision),
        generation: 1,
        creationTimestamp: nowTimestamp(),
      },
      spec: input.spec,
      ...(input.status === undefined ? {} : { status: input.status }),
    } as AnyObject;
    validateObject(kind, candidate);
    if (this.read(kind, name)) throw new AlreadyExistsError(kind, name);
    return { result: candidate, change: { type: 'ADDED', object: candidate } };
  }

  private current(kind: Kind, name: string, resourceVersion: string | undefined): AnyObject {
    const current = this.read(kind, name);
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

  private planUpdate(input: AnyObject, revision: number): Plan {
    const { kind, name } = SqliteStore.identify(input);
    const current = this.current(kind, name, input.metadata.resourceVersion);
    const deleting = current.metadata.deletionTimestamp !== undefined;
    const metadata: ObjectMeta = { ...userMetadata(input.metadata), ...serverMetadata(current.metadata) };
    if (deleting) {
      const added = (metadata.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
      if (added.length) throw new InvalidError(`${kind.toLowerCase()} "${name}" is being deleted: finalizers cannot be added (${added.join(', ')})`, [{ field: 'metadata.finalizers', message: 'cannot add finalizers during deletion' }]);
    }
    const candidate = { apiVersion: API_VERSION, kind, metadata, spec: input.spec, ...(current.status === undefined ? {} : { status: current.status }) } as AnyObject;
    validateObject(kind, candidate);
    if (deleting && !(metadata.finalizers ?? []).length) {
      const finalState = { ...candidate, metadata: { ...metadata, resourceVersion: String(revision) } } as AnyObject;
      return { result: undefined, change: { type: 'DELETED', object: finalState } };
    }
    if (jsonEqual(stripVersion(candidate), stripVersion(current))) return { result: current };
    const specChanged = !jsonEqual(candidate.spec, current.spec);
    candidate.metadata.generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    candidate.metadata.resourceVersion = String(revision);
    return { result: candidate, change: { type: 'MODIFIED', object: candidate } };
  }

  private planUpdateStatus(input: AnyObject, revision: number): Plan {
    const { kind, name } = SqliteStore.identify(input);
    const current = this.current(kind, name, input.metadata.resourceVersion);
    const candidate = { ...current, status: input.status } as AnyObject;
    if (input.status === undefined) delete candidate.status;
    validateObject(kind, candidate);
    if (jsonEqual(candidate.status, current.status)) return { result: current };
    candidate.metadata = { ...current.metadata, resourceVersion: String(revision) };
    return { result: candidate, change: { type: 'MODIFIED', object: candidate } };
  }

  private planDelete(kind: Kind, name: string, resourceVersion: string | undefined, revision: number): Plan {
    const current = this.current(kind, name, resourceVersion);
    if (current.metadata.finalizers?.length) {
      if (current.metadata.deletionTimestamp) return { result: current };
      const marked = { ...current, metadata: { ...current.metadata, deletionTimestamp: nowTimestamp(), resourceVersion: String(revision) } } as AnyObject;
      return { result: marked, change: { type: 'MODIFIED', object: marked } };
    }
    const finalState = { ...current, metadata: { ...current.metadata, resourceVersion: String(revision) } } as AnyObject;
    return { result: undefined, change: { type: 'DELETED', object: finalState } };
  }

  // ---- watch --------------------------------------------------------------------------------

  watch(options: WatchOptions, handlers: WatchHandlers): Watch {
    this.assertOpen();
    const since = options.sinceRevision ?? this.currentRevision;
    if (since < this.oldestRevision) {
      throw new GoneError(`too old resource version: ${since} (history starts after ${this.oldestRevision}); relist and watch from the list's revision`);
    }
    const watcher: Watcher = { ...(options.kind ? { kind: options.kind } : {}), handlers, buffer: [], draining: false, stopped: false };
    if (since < this.currentRevision) {
      for (const row of this.statements.historySince.all(since)) {
        if (watcher.kind && row.kind !== watcher.kind) continue;
        watcher.buffer.push({ type: row.type as WatchEventType, kind: row.kind as Kind, data: row.data, revision: row.revision });
      }
      this.scheduleDrain(watcher);
    }
    this.watchers.add(watcher);
    return {
      stop: () => {
        watcher.stopped = true;
        this.watchers.delete(watcher);
      },
    };
  }

  private publish(event: RecordedChange): void {
    for (const watcher of this.watchers) {
      if (watcher.kind && watcher.kind !== event.kind) continue;
      watcher.buffer.push(event);
      this.scheduleDrain(watcher);
    }
  }

  private scheduleDrain(watcher: Watcher): void {
    if (watcher.draining) return;
    watcher.draining = true;
    queueMicrotask(() => {
      watcher.draining = false;
      const events = watcher.buffer;
      watcher.buffer = [];
      for (const event of events) {
        if (watcher.stopped) return;
        try {
          watcher.handlers.onEvent({ type: event.type, object: JSON.parse(event.data) as AnyObject, revision: event.revision });
        } catch (error) {
          // A throwing handler must not break the store or other watchers; it learns through onError.
          watcher.handlers.onError?.(error as Error);
        }
      }
    });
  }

  // ---- maintenance --------------------------------------------------------------------------

  async compact(keep: number): Promise<void> {
    this.assertOpen();
    await this.drainQueue();
    this.compactTo(this.currentRevision - keep);
  }

  private compactTo(revision: number): void {
    if (revision <= this.oldestRevision) return;
    this.db.transaction(() => {
      this.statements.compactBelow.run(revision);
      this.statements.setMeta.run('compacted_revision', String(revision));
    })();
    this.oldestRevision = revision;
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length || this.flushScheduled) await new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drainQueue();
    this.closed = true;
    for (const watcher of this.watchers) {
      watcher.stopped = true;
      watcher.handlers.onError?.(new UnavailableError('store closed'));
    }
    this.watchers.clear();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new UnavailableError(`store ${this.file} is closed`);
  }
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

function stripVersion(object: AnyObject): unknown {
  return { ...object, metadata: { ...object.metadata, resourceVersion: undefined } };
}

export function openSqliteStore(file: string, options?: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(file, options);
}
