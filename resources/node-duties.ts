// Pure rules of the node duties (the controllers that apply NodeConfig/plc to the node itself):
// which controllers run (`--controllers`), the authorized_keys of PLC's admin accounts, and which
// conf file destinations may be written.
import { posix } from 'node:path';
import type { ConfFile, NodeAccount } from '../schemas/types.js';
import { UsageError } from './errors.js';

/**
 * The accounts the admin-accounts duty manages: PLC's special accounts. One PLC no longer lists
 * gets an empty authorized_keys (its keys were dropped), never a deleted account.
 */
export const ADMIN_ACCOUNTS = ['root', 'site_admin'] as const;

/** Conf file destinations allowed by default: the directories PLC's own conf files go to. */
export const DEFAULT_CONF_FILE_DIRS = ['/etc/planetlab', '/etc/cron.d', '/etc/sysconfig', '/etc/ssh', '/usr/boot'] as const;

/**
 * `--controllers` as kube-controller-manager reads it: a comma list of names, `*` for every
 * controller on by default, `-name` to leave one out, a bare name to add one that is off by
 * default. The answer is the set to run; an unknown name is an error (a typo must not silently
 * disable a duty).
 */
export function selectControllers(spec: string, known: readonly string[], onByDefault: readonly string[]): Set<string> {
  const selected = new Set<string>();
  const items = spec
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) throw new UsageError(`--controllers is empty: use * for the default set`);
  for (const item of items) {
    if (item === '*') {
      for (const name of onByDefault) selected.add(name);
      continue;
    }
    const name = item.startsWith('-') ? item.slice(1) : item;
    if (!known.includes(name)) throw new UsageError(`--controllers: unknown controller "${name}" (known: ${known.join(', ')})`);
    if (item.startsWith('-')) selected.delete(name);
    else selected.add(name);
  }
  // `-name` wins wherever it stands, as in kube-controller-manager.
  for (const item of items) if (item.startsWith('-')) selected.delete(item.slice(1));
  return selected;
}

/** The authorized_keys text of each admin account: PLC's keys (deduplicated, in order), empty when PLC lists none. */
export function adminAuthorizedKeys(accounts: readonly NodeAccount[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of ADMIN_ACCOUNTS) {
    const keys = accounts.filter((account) => account.name === name).flatMap((account) => account.keys.map((key) => key.trim()));
    const unique = [...new Set(keys.filter((key) => key.length > 0 && !key.includes('\n')))];
    files.set(name, unique.map((key) => `${key}\n`).join(''));
  }
  return files;
}

/**
 * Why `dest` may not be written, or undefined when it may: it must be absolute, normalized (no
 * `..` or `.` components) and strictly inside one of `allowedDirs`.
 */
export function confFileRefusal(dest: string, allowedDirs: readonly string[]): string | undefined {
  if (!dest.startsWith('/')) return `destination ${JSON.stringify(dest)} is not an absolute path`;
  if (posix.normalize(dest) !== dest || dest.endsWith('/')) return `destination ${JSON.stringify(dest)} is not a normalized file path`;
  const inside = allowedDirs.some((dir) => dest.startsWith(`${dir.replace(/\/+$/, '')}/`));
  return inside ? undefined : `destination ${dest} is outside the allowed directories (${allowedDirs.join(', ')})`;
}

/** The conf files to install, keyed by destination; a later record for the same destination wins, as PLC's order decides. */
export function confFilesByDest(files: readonly ConfFile[]): Map<string, ConfFile> {
  return new Map(files.map((file) => [file.dest, file]));
}
