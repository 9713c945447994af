// The managed login shells: installed under the root and registered in <root>/etc/shells (sshd and
// chsh accept only listed shells).
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NodeError } from '../../../resources/errors.js';
import { PinnedDir } from './safe-write.js';

const ROOT_OWNED = { uid: 0, gid: 0 };

/** Write a root-owned file under the root (parents created as root-owned 0755 directories). */
export function installFile(root: string, inside: string, content: string | Uint8Array, mode: number): void {
  const file = join(root, inside);
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const dir = PinnedDir.open(systemDir(root, dirname(file)));
  try {
    dir.writeFile(basename(file), content, { ...ROOT_OWNED, mode });
  } finally {
    dir.close();
  }
}

/**
 * A system directory with the root's own symlinks resolved (merged /usr: /bin -> usr/bin); only
 * root can plant links there, but one must still not lead out of the root.
 */
function systemDir(root: string, dir: string): string {
  const resolved = realpathSync(dir);
  const base = realpathSync(root);
  if (resolved !== base && !resolved.startsWith(base === '/' ? '/' : `${base}/`)) throw new NodeError(`${dir} leads outside the root ${root} (to ${resolved})`);
  return resolved;
}

/** Copy a program into the root (mode 0755 unless given), when its source exists. Returns whether it did. */
export function installProgram(root: string, inside: string, source: string, mode = 0o755): boolean {
  if (!existsSync(source)) return false;
  installFile(root, inside, readFileSync(source), mode);
  return true;
}

/** Add the shells missing from <root>/etc/shells (written atomically; existing lines kept). */
export function registerShells(root: string, shells: string[]): void {
  const file = join(root, 'etc/shells');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const listed = new Set(current.split('\n').map((line) => line.trim()));
  const missing = shells.filter((shell) => !listed.has(shell));
  if (missing.length === 0) return;
  const text = `${current}${current === '' || current.endsWith('\n') ? '' : '\n'}${missing.map((shell) => `${shell}\n`).join('')}`;
  installFile(root, 'etc/shells', text, 0o644);
}
