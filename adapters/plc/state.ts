// The PLC source's own state that must survive restarts: the last full update's timestamp.
// A small JSON file under the data dir, replaced atomically (write, fsync, rename, fsync dir).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError } from '../../resources/errors.js';

const FORMAT = 'slv-plc-state/v1';

export interface PlcState {
  /** Timestamp of the last full update applied (unix seconds); 0 before the first. */
  lastFullUpdate: number;
}

export class PlcStateFile {
  constructor(readonly path: string) {}

  read(): PlcState {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lastFullUpdate: 0 };
      throw new StorageError(`cannot read PLC state ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new StorageError(`PLC state ${this.path} is not JSON; remove it to start over (the next full update rewrites it)`, { cause: error });
    }
    const state = parsed as { format?: unknown; lastFullUpdate?: unknown };
    if (state.format !== FORMAT || typeof state.lastFullUpdate !== 'number' || !Number.isSafeInteger(state.lastFullUpdate)) {
      throw new StorageError(`PLC state ${this.path} is not a ${FORMAT} file`);
    }
    return { lastFullUpdate: state.lastFullUpdate };
  }

  write(state: PlcState): void {
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify({ format: FORMAT, ...state })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
