// Disk quota with the standard quota tools: `setquota -u UID 0 KIB 0 0 FILESYSTEM` (block limits
// are in KiB, disk_max's unit). Where the tools are absent or the filesystem has no user quota,
// the reason is returned so status can say why disk_max is not enforced.
import { existsSync } from 'node:fs';
import { runCommand } from '../../support/exec.js';
import { CommandError } from '../../../resources/errors.js';
import { mountPointOf } from '../posix/mounts.js';

const SETQUOTA = '/usr/sbin/setquota';

/** Set the uid's hard block limit on the filesystem holding `home`; the reason if it cannot be. */
export async function setDiskQuota(uid: number, home: string, kib: number): Promise<string | undefined> {
  const mount = mountPointOf(home);
  if (!existsSync(SETQUOTA)) return `disk quota not enforced: ${SETQUOTA} is not installed (Debian package "quota")`;
  try {
    await runCommand(SETQUOTA, ['-u', String(uid), '0', String(kib), '0', '0', mount]);
    return undefined;
  } catch (error) {
    if (error instanceof CommandError) return `disk quota not enforced on ${mount}: ${error.stderr.trim() || error.message}`;
    throw error;
  }
}
