// Persistence for the simulated node: a JSON snapshot (atomic: temp file, fsync, rename) plus an
// append-only journal of changes since that snapshot. Changes made in one synchronous run are
// appended to the journal together before anything else can happen (a microtask), so a killed
// process loses nothing it acknowledged; the snapshot is rewritten only once the journal has grown
// past twice the snapshot's size (and on close), so 10,000 accounts do not mean 10,000 rewrites of
// the whole file: each rewrite is paid for by at least as many bytes of changes.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvariantError, StorageError } from '../../../resources/errors.js';

/** One journal line: set a record (value), change some of its fields (patch), or remove it (neither). */
interface JournalEntry<V> {
  key: string;
  value?: V;
  patch?: Partial<V>;
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
}

/** The journal is folded into the snapshot once it is this long and twice as long as the snapshot. */
const MIN_JOURNAL_BYTES = 256 * 1024;

/** A durable map of JSON records, loaded at open. */
export class StateFile<V> {
  readonly records = new Map<string, V>();
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private readonly format: string;
  private journalFd: number;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private pending: string[] = [];
  private closed = false;

  constructor(options: StateFileOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.snapshotPath = join(options.dir, `${options.name}.json`);
    this.journalPath = join(options.dir, `${options.name}.journal`);
    this.format = options.format;
    // Fold a replayed journal into a fresh snapshot so the journal starts empty; with nothing to
    // replay the snapshot is already current (rewriting it was most of a restarted sim node's start).
    if (this.load() > 0 || !existsSync(this.snapshotPath)) this.writeSnapshot();
    this.journalFd = openSync(this.journalPath, 'w');
  }

  /** Set (value) or remove (undefined) one record, durably against a process crash. */
  put(key: string, value: V | undefined): void {
    if (this.closed) throw new StorageError(`state file ${this.snapshotPath} is closed`);
    if (value === undefined) this.records.delete(key);
    else this.records.set(key, value);
    this.append(value === undefined ? { key } : { key, value });
  }

  private append(entry: JournalEntry<V>): void {
    if (this.pending.length === 0) queueMicrotask(() => this.flush());
    this.pending.push(`${JSON.stringify(entry)}\n`);
  }

  /**
   * Change some fields of an existing record: the journal gets only those fields (an account's
   * record is written four or five times as it is set up; journalling it whole each time was most
   * of what the simulated node cost).
   */
  patch(key: string, fields: Partial<V>): void {
    if (this.closed) throw new StorageError(`state file ${this.snapshotPath} is closed`);
    const current = this.records.get(key);
    if (current === undefined) throw new InvariantError(`state file ${this.snapshotPath} has no record ${key} to patch`);
    this.records.set(key, { ...current, ...fields });
    this.append({ key, patch: fields });
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.compact();
    closeSync(this.journalFd);
    this.closed = true;
  }

  /** Append what is pending to the journal; fold the journal into the snapshot once it is long. */
  private flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    this.journalBytes += writeSync(this.journalFd, this.pending.join(''));
    this.pending = [];
    if (this.journalBytes >= Math.max(MIN_JOURNAL_BYTES, 2 * this.snapshotBytes)) this.compact();
  }

  /** Write the snapshot now and empty the journal. */
  private compact(): void {
    this.writeSnapshot();
    closeSync(this.journalFd);
    this.journalFd = openSync(this.journalPath, 'w');
    this.journalBytes = 0;
  }

  /** Read the snapshot and replay the journal over it; returns how many journal entries it replayed. */
  private load(): number {
    if (existsSync(this.snapshotPath)) {
      let snapshot: Snapshot<V>;
      try {
        const text = readFileSync(this.snapshotPath, 'utf8');
        this.snapshotBytes = Buffer.byteLength(text);
        snapshot = JSON.parse(text) as Snapshot<V>;
      } catch (e) {
        throw new StorageError(`${this.snapshotPath} is not valid JSON (${(e as Error).message}); nothing was changed`, { cause: e });
      }
      if (snapshot?.format !== this.format || typeof snapshot.records !== 'object' || snapshot.records === null) {
        throw new StorageError(`${this.snapshotPath} is not a ${this.format} file; nothing was changed`);
      }
      for (const [key, value] of Object.entries(snapshot.records)) this.records.set(key, value);
    }
    let replayed = 0;
    if (!existsSync(this.journalPath)) return replayed;
    for (const line of readFileSync(this.journalPath, 'utf8').split('\n')) {
      if (!line) continue;
      let entry: JournalEntry<V>;
      try {
        entry = JSON.parse(line) as JournalEntry<V>;
      } catch {
        break; // a line torn by a crash mid-write: it was never acknowledged
      }
      if (entry.patch !== undefined) {
        // A patch follows its record's set (in the snapshot or earlier in the journal); replaying
        // field overwrites again, after a crash between a fold and the journal's truncation, ends the same.
        const current = this.records.get(entry.key);
        if (current !== undefined) this.records.set(entry.key, { ...current, ...entry.patch });
      } else if (entry.value === undefined) this.records.delete(entry.key);
      else this.records.set(entry.key, entry.value);
      replayed++;
    }
    return replayed;
  }

  private writeSnapshot(): void {
    const snapshot: Snapshot<V> = { format: this.format, records: Object.fromEntries(this.records) };
    const temp = `${this.snapshotPath}.tmp`;
    const text = JSON.stringify(snapshot);
    writeFileSync(temp, text);
    this.snapshotBytes = Buffer.byteLength(text);
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
