// slvd as a real child process for the daemon tests: spawn it on its own endpoints, read its
// status.json, and wait (bounded polling) for a status or a log line.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonStatus } from '../../controller/daemon/status-file.js';
import { registerCleanup } from './host-cleanup.js';

const MAIN = new URL('../../controller/daemon/main.ts', import.meta.url).pathname;
/** The installed command: the build's bundle while it is current (else the sources, through tsx). */
export const INSTALLED_SLVD = new URL('../../bin/slvd.js', import.meta.url).pathname;

export interface Daemon {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * `args` must include `--data-dir`; `nodeArgs` go to node before the entry point (e.g. `--import`
 * of a test's own module); `env` is the daemon's environment; `installed` runs bin/slvd.js instead of the sources. The daemon is SIGKILLed after the test if still running.
 */
export function spawnSlvd(t: TestContext, args: string[], nodeArgs: string[] = [], env: NodeJS.ProcessEnv = process.env, installed = false): Daemon {
  // Each daemon keeps its XML-RPC socket in its own data dir, off the host-wide defaults.
  const dataDir = args[args.indexOf('--data-dir') + 1]!;
  const endpoints = ['--xmlrpc-port', '0', '--xmlrpc-socket', join(dataDir, 'sliver_mgr.api'), '--xmlrpc-legacy-socket', 'none'];
  let started: ChildProcess | undefined;
  const release = registerCleanup(`slvd --data-dir ${dataDir}`, () => started?.kill('SIGKILL'));
  const entry = installed ? [...nodeArgs, INSTALLED_SLVD] : ['--import', 'tsx', ...nodeArgs, MAIN];
  const child = spawn(process.execPath, [...entry, ...endpoints, '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  started = child;
  child.once('exit', () => void release());
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': the output is complete only once stdout and stderr are closed.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output, exited };
}

export function readStatus(dataDir: string): DaemonStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'status.json'), 'utf8')) as DaemonStatus;
  } catch {
    return undefined;
  }
}

/** Polls status.json (every 100 ms, bounded) until `condition` holds. */
export async function waitForStatus(dataDir: string, daemon: Daemon, condition: (s: DaemonStatus) => boolean, what: string): Promise<DaemonStatus> {
  for (let i = 0; i < 300; i++) {
    const status = readStatus(dataDir);
    if (status && condition(status)) return status;
    if (daemon.child.exitCode !== null) assert.fail(`slvd exited (${daemon.child.exitCode}) before ${what}:\n${daemon.output()}`);
    await sleep(100);
  }
  assert.fail(`gave up waiting until ${what}; status: ${JSON.stringify(readStatus(dataDir))}\n${daemon.output()}`);
}

/** Polls the daemon's output (every 100 ms, bounded) until it matches. */
export async function waitForOutput(daemon: Daemon, pattern: RegExp): Promise<void> {
  for (let i = 0; !pattern.test(daemon.output()); i++) {
    if (i >= 300) assert.fail(`gave up waiting for ${pattern} in:\n${daemon.output()}`);
    await sleep(100);
  }
}
