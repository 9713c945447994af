// One slvd per data dir: `<data-dir>/slvd.pid` holds the owner's pid. Creation is atomic (link of
// a complete temp file, which fails if the lock exists); a lock whose pid is dead, or belongs to a
// process that is not slvd (pid reuse after a crash), is stale and taken over.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlvError } from '../../resources/errors.js';

export const LOCK_FILE = 'slvd.pid';

/** Another daemon holds the data dir (exit code 5, as for a conflict). */
export class DataDirLockedError extends SlvError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super('Conflict', `another slvd (pid ${pid}) is running on data dir ${dataDir}; stop it first (kill -TERM ${pid})`);
  }
}

function holderPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Is `pid` a live slvd? A live process whose command line does not mention slvd is a reused pid. */
function isLiveDaemon(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('slvd');
  } catch {
    return true;
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Give the data dir up (the last thing slvd closes). */
  close(): void;
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const temp = join(dataDir, `${LOCK_FILE}.${process.pid}.tmp`);
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
      }
      const pid = holderPid(path);
      if (pid !== undefined && pid !== process.pid && isLiveDaemon(pid)) throw new DataDirLockedError(dataDir, pid);
      // Stale: move it aside under a name of our own (only one taker succeeds), then retry the link.
      const aside = `${temp}.stale`;
      try {
        renameSync(path, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        continue;
      }
      const moved = holderPid(aside);
      if (moved !== undefined && moved !== pid && isLiveDaemon(moved)) {
        // Another starter took the stale lock over between our read and our rename: give it back.
        linkSync(aside, path);
        unlinkSync(aside);
        throw new DataDirLockedError(dataDir, moved);
      }
      unlinkSync(aside);
    }
  } finally {
    unlinkSync(temp);
  }
  return {
    path,
    close() {
      // Only our own lock: never remove one a successor took over.
      if (holderPid(path) === process.pid) unlinkSync(path);
    },
  };
}
