// Persistence for the simulated node: a JSON snapshot (atomic: temp file, fsync, rename) plus an
// append-only journal of changes since that snapshot. Every change is appended to the journal
// before the call that made it returns, so a killed process loses nothing it acknowledged; the
// snapshot is rewritten at most once per `snapshotDelayMs` (and on close), so 10,000 accounts do not
// mean 10,000 rewrites of the whole file.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StorageError } from '../../resources/errors.js';

/** One journal line: set a record (value) or remove it (value absent). */
interface JournalEntry<V> {
  key: string;
  value?: V;
}

interface Snapshot<V> {
  format: string;
  records: Record<string, V>;
}

export interface StateFileOptions {
  /** Directory that holds `<name>.json` and `<name>.journal`. */
  dir: string;
  name: string;
  /** Tag written in the snapshot, checked on load so a foreign file is refused. */
  format: string;
  snapshotDelayMs?: number;
}

/** A durable map of JSON records, loaded at open. */
export class StateFile<V> {
  readonly records = new Map<string, V>();
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private readonly format: string;
  private readonly snapshotDelayMs: number;
  private journalFd: number;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: StateFileOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.snapshotPath = join(options.dir, `${options.name}.json`);
    this.journalPath = join(options.dir, `${options.name}.journal`);
    this.format = options.format;
    this.snapshotDelayMs = options.snapshotDelayMs ?? 200;
    this.load();
    // Fold the replayed journal into a fresh snapshot so the journal starts empty.
    this.writeSnapshot();
    this.journalFd = openSync(this.journalPath, 'w');
  }

  /** Set (value) or remove (undefined) one record, durably against a process crash. */
  put(key: string, value: V | undefined): void {
    if (this.closed) throw new StorageError(`state file ${this.snapshotPath} is closed`);
    if (value === undefined) this.records.delete(key);
    else this.records.set(key, value);
    const entry: JournalEntry<V> = value === undefined ? { key } : { key, value };
    writeSync(this.journalFd, `${JSON.stringify(entry)}\n`);
    // The journal already holds the change, so a pending snapshot need not keep the process alive.
    this.snapshotTimer ??= setTimeout(() => this.compact(), this.snapshotDelayMs).unref();
  }

  /** Write the snapshot now and empty the journal. */
  compact(): void {
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    if (this.closed) return;
    this.writeSnapshot();
    closeSync(this.journalFd);
    this.journalFd = openSync(this.journalPath, 'w');
  }

  close(): void {
    if (this.closed) return;
    this.compact();
    closeSync(this.journalFd);
    this.closed = true;
  }

  private load(): void {
    if (existsSync(this.snapshotPath)) {
      let snapshot: Snapshot<V>;
      try {
        snapshot = JSON.parse(readFileSync(this.snapshotPath, 'utf8')) as Snapshot<V>;
      } catch (e) {
        throw new StorageError(`${this.snapshotPath} is not valid JSON (${(e as Error).message}); nothing was changed`);
      }
      if (snapshot?.format !== this.format || typeof snapshot.records !== 'object' || snapshot.records === null) {
        throw new StorageError(`${this.snapshotPath} is not a ${this.format} file; nothing was changed`);
      }
      for (const [key, value] of Object.entries(snapshot.records)) this.records.set(key, value);
    }
    if (!existsSync(this.journalPath)) return;
    for (const line of readFileSync(this.journalPath, 'utf8').split('\n')) {
      if (!line) continue;
      let entry: JournalEntry<V>;
      try {
        entry = JSON.parse(line) as JournalEntry<V>;
      } catch {
        break; // a line torn by a crash mid-write: it was never acknowledged
      }
      if (entry.value === undefined) this.records.delete(entry.key);
      else this.records.set(entry.key, entry.value);
    }
  }

  private writeSnapshot(): void {
    const snapshot: Snapshot<V> = { format: this.format, records: Object.fromEntries(this.records) };
    const temp = `${this.snapshotPath}.tmp`;
    writeFileSync(temp, JSON.stringify(snapshot));
    fsyncPath(temp);
    renameSync(temp, this.snapshotPath);
    fsyncPath(dirname(this.snapshotPath)); // make the rename itself durable
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
