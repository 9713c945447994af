// The node duties' files under a --root prefix: admin accounts' authorized_keys and PLC's conf
// files. Written atomically through PinnedDir, so a symlink planted in a home, its .ssh or in
// place of a destination is replaced, never followed.
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { NodeError } from '../../../resources/errors.js';
import { parsePasswd } from './accounts.js';
import { PinnedDir, type Ownership } from './safe-write.js';
import { installFile, systemDir } from './shells.js';

/** The file's bytes, or undefined when absent; a symlink in its place counts as absent (it will be replaced). */
function readWithoutFollowing(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

export type KeysOutcome = 'written' | 'unchanged' | 'no-account';

export class NodeFiles {
  constructor(readonly root: string) {}

  /** The uid and gid of a user (and optionally another group) named in <root>/etc/passwd and /etc/group. */
  ownership(user: string, group = user): Ownership {
    const entry = this.passwd().find((candidate) => candidate.name === user);
    if (!entry) throw new NodeError(`no user "${user}" in ${join(this.root, 'etc/passwd')}`);
    if (group === user) return { uid: entry.uid, gid: entry.gid };
    return { uid: entry.uid, gid: this.groupId(group) };
  }

  /**
   * Make `account`'s ~/.ssh/authorized_keys hold exactly `keys` (0600, .ssh 0700, owned by the
   * account). An account missing from <root>/etc/passwd is left alone: a node need not have site_admin.
   */
  writeAuthorizedKeys(account: string, keys: string): KeysOutcome {
    const entry = this.passwd().find((candidate) => candidate.name === account);
    if (!entry) return 'no-account';
    const owner = { uid: entry.uid, gid: entry.gid };
    const home = PinnedDir.open(join(this.root, entry.home));
    try {
      const ssh = PinnedDir.open(join(home.path, '.ssh'), { ...owner, mode: 0o700, parent: home });
      try {
        const current = readWithoutFollowing(`${ssh.procPath}/authorized_keys`);
        if (current?.toString('utf8') === keys) return 'unchanged';
        ssh.writeFile('authorized_keys', keys, { ...owner, mode: 0o600 });
        return 'written';
      } finally {
        ssh.close();
      }
    } finally {
      home.close();
    }
  }

  /** The bytes at `dest` (inside the root), undefined when absent or a symlink. */
  readConfFile(dest: string): Buffer | undefined {
    return readWithoutFollowing(join(this.root, dest));
  }

  /**
   * Install `content` at `dest` (inside the root) atomically. `checkDir` sees the destination's
   * directory (or its nearest existing ancestor) as resolved inside the root when a symlink on the
   * way changes it, so a symlinked directory cannot lead elsewhere.
   */
  installConfFile(dest: string, content: Buffer, mode: number, owner: Ownership, checkDir: (resolvedDir: string) => void): void {
    // The nearest directory on the way that exists: a missing one is created below it.
    let dir = dirname(join(this.root, dest));
    while (!existsSync(dir)) dir = dirname(dir);
    const resolved = `/${relative(systemDir(this.root, this.root), systemDir(this.root, dir))}`;
    if (resolved !== `/${relative(this.root, dir)}`) checkDir(resolved); // a symlink on the way: where it really goes must pass
    installFile(this.root, dest, content, mode, owner);
  }

  private passwd() {
    const file = join(this.root, 'etc/passwd');
    return existsSync(file) ? parsePasswd(readFileSync(file, 'utf8')) : [];
  }

  private groupId(name: string): number {
    const file = join(this.root, 'etc/group');
    const line = existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .find((candidate) => candidate.split(':')[0] === name)
      : undefined;
    const gid = line?.split(':')[2];
    if (gid === undefined || !/^\d+$/.test(gid)) throw new NodeError(`no group "${name}" in ${file}`);
    return Number(gid);
  }
}
