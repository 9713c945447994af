// Writing files as root into directories an account controls (its home, its .ssh, a guest's /etc)
// without following anything the account planted there. Node has no openat(), so each directory is
// opened once with O_NOFOLLOW and then addressed through /proc/self/fd/N: the kernel resolves that
// to the opened directory itself, so swapping a path component for a symlink afterwards changes
// nothing. The file is written to a temp name (O_EXCL | O_NOFOLLOW) and renamed over the target.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { NodeError } from '../../../resources/errors.js';

export interface Ownership {
  uid: number;
  gid: number;
}

/** A directory opened without following symlinks; paths inside it go through its fd. */
export class PinnedDir {
  private constructor(
    readonly fd: number,
    readonly path: string,
  ) {}

  /**
   * Open `path` (its last component must not be a symlink). With `create`, a missing directory is
   * made, and anything else in its place (a planted symlink or file) is removed first.
   */
  static open(path: string, create?: Ownership & { mode: number; parent?: PinnedDir }): PinnedDir {
    const where = create?.parent ? `${create.parent.procPath}/${basename(path)}` : path;
    let fd = tryOpenDir(where);
    if (fd === undefined) {
      if (!create) throw new NodeError(`${path} is not a directory (or is a symlink)`);
      rmSync(where, { force: true }); // a symlink or file in the way: unlink removes the link, never its target
      mkdirSync(where, { mode: create.mode });
      fd = tryOpenDir(where);
      if (fd === undefined) throw new NodeError(`${path} changed while it was being created`);
    }
    const dir = new PinnedDir(fd, path);
    if (create) {
      const stat = fstatSync(fd);
      if (stat.uid !== create.uid || stat.gid !== create.gid) fchownSync(fd, create.uid, create.gid);
      if ((stat.mode & 0o7777) !== create.mode) fchmodSync(fd, create.mode);
    }
    return dir;
  }

  get procPath(): string {
    return `/proc/self/fd/${this.fd}`;
  }

  owner(): Ownership {
    const stat = fstatSync(this.fd);
    return { uid: stat.uid, gid: stat.gid };
  }

  /** Atomically replace `name` in this directory with `content`, owned and moded as given. */
  writeFile(name: string, content: string | Uint8Array, owner: Ownership & { mode: number }): void {
    const temp = `${this.procPath}/.${name}.slv-${randomBytes(6).toString('hex')}`;
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const bytes = typeof content === 'string' ? Buffer.from(content) : content;
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
      fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, owner.mode);
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      unlinkSync(temp);
      throw error;
    }
    closeSync(fd);
    renameSync(temp, `${this.procPath}/${name}`);
  }

  /** Remove `name` from this directory (a symlink is removed, not followed); absent is fine. */
  removeFile(name: string): void {
    rmSync(`${this.procPath}/${name}`, { force: true });
  }

  close(): void {
    closeSync(this.fd);
  }
}

function tryOpenDir(path: string): number | undefined {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
