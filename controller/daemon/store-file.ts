// Whether slvd may start a new, empty store: only in a data dir that holds no node state yet, or when
// told to (--init-store). A store.db that is missing or empty (0 bytes: SQLite would silently make
// it a fresh database) next to other state means the node's Loans and run states were lost.
import { readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError } from '../../resources/errors.js';

/** The entries of `dir` (none when it does not exist yet). */
export function dataDirEntries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StorageError(`cannot read data dir ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Throws unless `file` holds a store, or a new one may be created: `stateAtStart` (the node state
 * the data dir held before slvd wrote its lock and status) is empty, or `initStore` was asked for.
 */
export function checkStoreFile(file: string, stateAtStart: readonly string[], initStore: boolean): void {
  let size: number | undefined;
  try {
    size = statSync(file).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StorageError(`cannot read store file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if ((size !== undefined && size > 0) || stateAtStart.length === 0 || initStore) return;
  throw new StorageError(
    `store file ${file} is ${size === undefined ? 'missing' : 'empty (0 bytes)'} but the data dir ${dirname(file)} holds other state (${stateAtStart.join(', ')}): ` +
      'refusing to start a new, empty store, which would lose the Loans and run states it held. Restore store.db from a backup, ' +
      'or start slvd once with --init-store to begin with an empty store',
  );
}
