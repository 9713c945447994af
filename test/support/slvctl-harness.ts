// Runs slvctl as a real process (bin/slvctl.js) against a test API server; startProgram runs any
// other client (kubectl) the same way.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processStagingDir, stageProgram } from './staging.js';

export const SLVCTL = fileURLToPath(new URL('../../bin/slvctl.js', import.meta.url));

let stagedSlvctl: string | undefined;
/** slvctl bundled where other uids can run it. */
function slvctlForOtherUsers(): string {
  stagedSlvctl ??= stageProgram("import { main } from './cli/main.ts';\nprocess.exit(await main(process.argv));\n", processStagingDir(), 'slvctl.mjs');
  return stagedSlvctl;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  socket: string;
  input?: string;
  env?: Record<string, string>;
  /** Run as this uid (and gid): a staged slvctl with /usr/bin/node, both reachable for any user. */
  uid?: number;
}

export interface Running {
  done: Promise<Run>;
  /** Resolves once stdout matches `pattern` (checked as output arrives, no polling). */
  until(pattern: RegExp): Promise<void>;
  kill(): void;
}

/** A program to run: its command line, environment and (to run as another user) uid and gid. */
export interface ProgramOptions {
  env: Record<string, string>;
  input?: string;
  uid?: number;
}

/** Starts a program; `done` resolves when it exits (it is killed if it outlives `timeoutMs`). */
export function startProgram(file: string, args: string[], options: ProgramOptions, timeoutMs = 20_000): Running {
  const child = spawn(file, args, { env: options.env, cwd: '/', ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }) });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stdout)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(stdout)) return resolve();
      waiters.push({ pattern, resolve });
      void done.then((run) => reject(new Error(`${file} exited (${run.code}) before printing ${pattern}: ${run.stdout}${run.stderr}`)));
    });
  return { done, until, kill: () => child.kill('SIGTERM') };
}

/** Starts slvctl; `done` resolves when it exits (it is killed if it outlives `timeoutMs`). */
export function startSlvctl(args: string[], options: RunOptions, timeoutMs = 20_000): Running {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SLV_SERVER: options.socket, ...options.env };
  const node = options.uid === undefined ? process.execPath : '/usr/bin/node';
  return startProgram(
    node,
    [options.uid === undefined ? SLVCTL : slvctlForOtherUsers(), ...args],
    { env, ...(options.input === undefined ? {} : { input: options.input }), ...(options.uid === undefined ? {} : { uid: options.uid }) },
    timeoutMs,
  );
}

export function slvctl(args: string[], options: RunOptions): Promise<Run> {
  return startSlvctl(args, options).done;
}
