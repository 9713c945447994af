// An init script's run as files on the host, shared by the adapters that run it themselves (linux,
// lxc): `BASE.log` its output, `BASE.started` when it started, `BASE.exit` its exit status once it
// exited. The files are root's, outside anything a sliver can write, so reading them back never
// follows a path a sliver planted.
import { closeSync, fstatSync, openSync, readSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { outputTail } from '../../../resources/init-output.js';
import type { InitOutcome, LogChunk } from '../contract.js';

/** How much of the log one read returns, and how much of its end the tail is taken from. */
const CHUNK_BYTES = 1 << 20;
const TAIL_WINDOW_BYTES = 64 * 1024;

/**
 * `sh -c WRAPPER BASE COMMAND...`: sends everything to BASE.log, runs `guard` (e.g. joining a
 * cgroup, ending in `&&`: if it fails, the command does not run and its status is the outcome),
 * then the command, and records the exit status in BASE.exit (127 when the command is not found).
 */
export function initWrapperScript(guard = ''): string {
  return `exec >"$0.log" 2>&1 </dev/null; ${guard}"$@"; echo $? >"$0.exit"`;
}

/** Before a run: forget the last run's outcome and note when this one starts. */
export function beginInitRun(base: string, now = Date.now()): void {
  rmSync(`${base}.exit`, { force: true });
  writeFileSync(`${base}.started`, `${now}\n`, { mode: 0o600 });
}

export function removeInitRun(base: string): void {
  for (const suffix of ['.log', '.started', '.exit']) rmSync(`${base}${suffix}`, { force: true });
}

export function readInitOutcome(base: string): InitOutcome | undefined {
  const startedAt = Number.parseInt(readOr(`${base}.started`, ''), 10);
  if (!Number.isSafeInteger(startedAt)) return undefined;
  const tail = outputTail(readEnd(`${base}.log`, TAIL_WINDOW_BYTES));
  const exitText = readOr(`${base}.exit`, '');
  const exitCode = Number.parseInt(exitText, 10);
  // An exit file being written reads empty: still running, for one more look.
  if (!Number.isSafeInteger(exitCode)) return { startedAt, tail };
  return { startedAt, exitCode, finishedAt: statSync(`${base}.exit`).mtimeMs, tail };
}

/** The log from `offset` on, at most CHUNK_BYTES; a log that shrank (a new run) reads from its start. */
export function readInitLogChunk(base: string, offset: number): LogChunk {
  const chunk = withFile(`${base}.log`, (fd, size) => {
    const from = offset > size ? 0 : offset;
    const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, size - from));
    const read = readSync(fd, buffer, 0, buffer.length, from);
    // Stop before a multi-byte character cut at the chunk's end; the next read starts with it.
    const text = buffer.subarray(0, read).toString('utf8');
    const whole = text.endsWith('\uFFFD') && read === buffer.length ? text.slice(0, -1) : text;
    return { text: whole, nextOffset: from + Buffer.byteLength(whole) };
  });
  return chunk ?? { text: '', nextOffset: 0 };
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  }
}

/** The last `bytes` bytes of a file ('' if absent). */
function readEnd(file: string, bytes: number): string {
  const end = withFile(file, (fd, size) => {
    const buffer = Buffer.alloc(Math.min(bytes, size));
    const read = readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.subarray(0, read).toString('utf8');
  });
  return end ?? '';
}

/** `use(fd, size)` on the open file, closed after; undefined when the file does not exist. */
function withFile<T>(file: string, use: (fd: number, size: number) => T): T | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return use(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}
