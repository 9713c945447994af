// The embedded store backend: one SQLite file (better-sqlite3, WAL, synchronous=FULL).
// Writes are queued and committed as a group, one transaction per event-loop turn, so many writes
// arriving together share one fsync; each write's promise settles only after its commit is durable.
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SlvError, StorageError, UnavailableError } from '../../resources/errors.js';
import { StoreBase } from './engine.js';
import type { Watch, WatchEventType, WatchHandlers, WatchOptions, WriteOptions } from './contract.js';
import { planTransaction, type WriteOperation } from '../../resources/store-rules.js';
import type { AnyObject, Kind } from '../../schemas/types.js';
import { WatchHub, assertHistoryKept, type RecordedChange } from './watch-hub.js';

/** `PRAGMA application_id` of slv store files ("SLV1"): anything else is a foreign database. */
const APPLICATION_ID = 0x534c5631;
/** 2: history keeps several changes per revision (a transaction's), in the order they were made. */
const SCHEMA_VERSION = 2;
const HISTORY_TABLE = `
  CREATE TABLE history (seq INTEGER PRIMARY KEY, revision INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL);
  CREATE INDEX history_revision ON history (revision);
`;

export interface SqliteStoreOptions {
  /** How many changes of history a watch can replay; older ones are compacted. */
  historyLimit?: number;
}

interface Pending {
  operations: readonly WriteOperation[];
  resolve(value: Array<AnyObject | undefined>): void;
  reject(error: unknown): void;
}

/** A clear StorageError for a file SQLite could not open or read. */
function describeOpenFailure(file: string, error: unknown): StorageError {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StorageError(`store file ${file} is not a usable slv database (corrupt or not SQLite): ${message}; nothing was changed`, { cause: error });
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new StorageError(`cannot open store file ${file}: ${message} (check that the data dir exists and is writable by this user)`, { cause: error });
  }
  return new StorageError(`cannot open store file ${file}: ${message}`, { cause: error });
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

/** The connection's page cache, in KiB (a negative cache_size). */
const PAGE_CACHE_KIB = 2000;

export class SqliteStore extends StoreBase {
  private readonly db: Database.Database;
  private readonly historyLimit: number;
  private currentRevision: number;
  private oldestRevision: number;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly hub = new WatchHub();
  private readonly statements;

  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    super();
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
      // The column alone (pluck): no row object per listed object.
      list: db.prepare<[string], string>('SELECT data FROM objects WHERE kind = ? ORDER BY name').pluck(),
      put: db.prepare('INSERT INTO objects (kind, name, revision, data) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET revision = excluded.revision, data = excluded.data'),
      remove: db.prepare('DELETE FROM objects WHERE kind = ? AND name = ?'),
      history: db.prepare('INSERT INTO history (revision, kind, name, type, data) VALUES (?, ?, ?, ?, ?)'),
      historySince: db.prepare<[number], { revision: number; kind: string; type: string; data: string }>('SELECT revision, kind, type, data FROM history WHERE revision > ? ORDER BY seq'),
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
    // Before quick_check reads the whole file through it: better-sqlite3's 16 MB page cache filled at
    // every start and stayed, as malloc'd memory, for good; SQLite's own default of 2 MiB costs no
    // CPU measured (writes and the informer's list read each page once).
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
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
      if (version === 0) {
        db.exec(`
          CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
          CREATE TABLE objects (kind TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name));
          ${HISTORY_TABLE}
        `);
      } else {
        // Version 1 had one history row per revision, keyed by it: keep its order as seq.
        db.exec(`
          ALTER TABLE history RENAME TO history_v1;
          ${HISTORY_TABLE}
          INSERT INTO history (seq, revision, kind, name, type, data) SELECT revision, revision, kind, name, type, data FROM history_v1;
          DROP TABLE history_v1;
        `);
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  // ---- reads --------------------------------------------------------------------------------

  protected readData(kind: Kind, name: string): string | undefined {
    return this.statements.get.get(kind, name)?.data;
  }

  protected listData(kind: Kind): Iterable<string> {
    return this.statements.list.iterate(kind);
  }

  revision(): number {
    return this.currentRevision;
  }

  compactedRevision(): number {
    return this.oldestRevision;
  }

  // ---- writes -------------------------------------------------------------------------------

  protected submit(operations: readonly WriteOperation[], options: WriteOptions): Promise<Array<AnyObject | undefined>> {
    try {
      this.assertOpen();
      if (options.dryRun) return Promise.resolve(planTransaction(operations, this.planContext(this.currentRevision + 1)).results);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ operations, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit every queued transaction in one SQLite transaction, then acknowledge each and notify watchers. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: Array<AnyObject | undefined> } | { ok: false; error: unknown }> = [];
    const events: RecordedChange[] = [];
    let revision = this.currentRevision;
    try {
      this.db.transaction(() => {
        for (const { operations } of batch) {
          // Planning is pure and comes first: a refused transaction has written nothing, so none
          // needs a savepoint of its own. A SQLite failure while recording fails the whole group.
          let plan;
          try {
            plan = planTransaction(operations, this.planContext(revision + 1));
          } catch (error) {
            outcomes.push({ ok: false, error });
            continue;
          }
          if (plan.changes.length) {
            revision += 1;
            for (const { type, object } of plan.changes) events.push({ type, kind: object.kind, data: this.record(type, object, revision), revision });
          }
          outcomes.push({ ok: true, value: plan.results });
        }
        if (revision !== this.currentRevision) this.statements.setMeta.run('revision', String(revision));
      })();
    } catch (error) {
      const failure = new StorageError(`store commit failed: ${(error as Error).message}`, { cause: error });
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.currentRevision = revision;
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
    for (const event of events) this.hub.publish(event);
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

  // ---- watch --------------------------------------------------------------------------------

  watch(options: WatchOptions, handlers: WatchHandlers): Watch {
    this.assertOpen();
    const since = options.sinceRevision ?? this.currentRevision;
    assertHistoryKept(since, this.oldestRevision);
    const replay =
      since < this.currentRevision ? this.statements.historySince.all(since).map((row) => ({ type: row.type as WatchEventType, kind: row.kind as Kind, data: row.data, revision: row.revision })) : [];
    return this.hub.add(options.kind, handlers, replay);
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
    this.hub.closeAll(new UnavailableError('store closed'));
    this.db.close();
  }

  protected assertOpen(): void {
    if (this.closed) throw new UnavailableError(`store ${this.file} is closed`);
  }
}

export function openSqliteStore(file: string, options?: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(file, options);
}
