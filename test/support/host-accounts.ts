// Tests whose slvd makes accounts on the HOST (sshd resolves users through the host's passwd):
// a guard taken before anything is created remembers the host's account files, /etc/shells and
// the programs slv may install, and restore() removes whatever the test's accounts left.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const HOST_FILES = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/shells', '/etc/subuid', '/etc/subgid'];

/** sha256 of each host account file, to compare before and after. */
export function hostFileHashes(): Record<string, string> {
  return Object.fromEntries(HOST_FILES.filter((file) => existsSync(file)).map((file) => [file, createHash('sha256').update(readFileSync(file)).digest('hex')]));
}

/** The host's passwd fields of `name`, if it has that account. */
export function hostAccount(name: string): string[] | undefined {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name);
}

/** Lines of an account file (passwd, group) whose id is in `range`. */
export function idsInRange(file: string, range: { min: number; max: number }): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      const id = Number(line.split(':')[2]);
      return id >= range.min && id <= range.max;
    });
}

/** Run a command for cleanup; a failure is reported, not thrown, so the rest of the cleanup runs. */
function tryRun(command: string, args: string[], problems: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'pipe' });
  } catch (error) {
    problems.push(`${command} ${args.join(' ')}: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`);
  }
}

export interface HostAccountsGuard {
  /** The host files' hashes when the guard was taken. */
  readonly hashesBefore: Record<string, string>;
  /** Whether `path` (one of `installed`) existed when the guard was taken. */
  existedBefore(path: string): boolean;
  /** Kill the accounts' processes, remove them, their homes, what was installed, new /etc/shells lines; returns what failed. */
  restore(): string[];
}

/** Take before anything is created: `accounts` by name, `installed` the paths slv may create. */
export function guardHostAccounts(accounts: readonly string[], installed: readonly string[]): HostAccountsGuard {
  const hashesBefore = hostFileHashes();
  const shellsBefore = existsSync('/etc/shells') ? readFileSync('/etc/shells', 'utf8').split('\n') : [];
  const existed = new Set(installed.filter((path) => existsSync(path)));
  return {
    hashesBefore,
    existedBefore: (path) => existed.has(path),
    restore() {
      const problems: string[] = [];
      const leftUids = accounts.flatMap((name) => hostAccount(name)?.[2] ?? []);
      if (leftUids.length > 0) {
        try {
          execFileSync('/usr/bin/pkill', ['-KILL', '-U', leftUids.join(',')], { stdio: 'ignore' });
        } catch {
          // exit 1: nothing ran as the accounts
        }
      }
      for (const name of accounts) {
        if (hostAccount(name)) tryRun('/usr/sbin/userdel', ['--remove', name], problems);
        if (
          readFileSync('/etc/group', 'utf8')
            .split('\n')
            .some((line) => line.startsWith(`${name}:`))
        )
          tryRun('/usr/sbin/groupdel', [name], problems);
        rmSync(`/home/${name}`, { recursive: true, force: true });
      }
      for (const path of installed) if (!existed.has(path)) rmSync(path, { recursive: true, force: true });
      const shellsNow = readFileSync('/etc/shells', 'utf8').split('\n');
      if (shellsNow.join('\n') !== shellsBefore.join('\n')) writeFileSync('/etc/shells', shellsNow.filter((line) => shellsBefore.includes(line)).join('\n'));
      return problems;
    },
  };
}
