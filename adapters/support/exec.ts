// The one way adapters run OS commands: execa with a timeout, no shell, and every failure turned
// into a CommandError that quotes the command line and its stderr, so a status condition or a log
// line says exactly what the node refused.
import { execa } from 'execa';
import { CommandError } from '../../resources/errors.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

export interface RunOptions {
  /** Kill the command (SIGTERM, then SIGKILL) after this long. */
  timeoutMs?: number;
  /** Written to the command's stdin. */
  input?: string;
  cwd?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** Run as this uid/gid (root only). */
  uid?: number;
  gid?: number;
  /** Exit codes that are answers rather than failures (e.g. `1` from `pgrep` = no process). */
  okExitCodes?: number[];
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Shell-style quoting, only for messages: the command itself never goes through a shell. */
export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Run `file args…`; resolves on exit 0 (or an allowed code), otherwise rejects with a CommandError. */
export async function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const result = await execa(file, args, {
    reject: false,
    // execa's cleanup hooks signal-exit, which re-raises SIGINT/SIGTERM and kills this process when
    // the signal's listeners happen to number as many as the commands in flight: slvd's graceful
    // drain (and a test's cleanup) would then be cut short. Commands are bounded by the timeout.
    cleanup: false,
    timeout: timeoutMs,
    forceKillAfterDelay: 2_000,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    ...(options.input === undefined ? {} : { input: options.input }),
    cwd: options.cwd,
    env: options.env,
    uid: options.uid,
    gid: options.gid,
    stripFinalNewline: false,
    encoding: 'utf8',
  });
  const command = formatCommand(file, args);
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (result.timedOut) throw new CommandError(command, undefined, stderr, `timed out after ${timeoutMs} ms`);
  if (result.exitCode === undefined) {
    // Never started (ENOENT, EACCES) or killed by a signal.
    const cause = result.cause instanceof Error ? result.cause.message : result.signal ? `killed by ${result.signal}` : 'did not run';
    throw new CommandError(command, undefined, stderr, cause, { cause: result.cause });
  }
  if (result.exitCode !== 0 && !(options.okExitCodes ?? []).includes(result.exitCode)) {
    throw new CommandError(command, result.exitCode, stderr);
  }
  return { stdout, stderr, exitCode: result.exitCode };
}

export interface DetachedOptions {
  cwd?: string;
  /** The complete environment (nothing is inherited from slvd). */
  env: Record<string, string>;
}

/**
 * Start a long-running program in its own session, not waited for and not killed with slvd (a
 * sliver's init script). Resolves with its pid once it runs; a program that cannot start rejects.
 */
export async function startDetached(file: string, args: readonly string[], options: DetachedOptions): Promise<number> {
  const child = execa(file, args, { detached: true, cleanup: false, stdio: 'ignore', reject: false, cwd: options.cwd, env: options.env, extendEnv: false });
  const pid = await new Promise<number | undefined>((resolve) => {
    child.once('spawn', () => resolve(child.pid));
    child.once('error', () => resolve(undefined));
  });
  if (pid === undefined) {
    const result = await child;
    throw new CommandError(formatCommand(file, args), undefined, '', result.cause instanceof Error ? result.cause.message : 'did not start', { cause: result.cause });
  }
  child.unref();
  return pid;
}
