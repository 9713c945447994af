// Serving on a Unix socket path, one rule for every listener (REST and XML-RPC): a socket file left
// by a dead server is replaced; a live server, anything that is not a socket, or a directory where
// other users could swap the socket for their own is refused with a SocketPathError; the file is
// removed on close only while it is still ours.
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { SocketPathError } from '../../resources/errors.js';

export interface UnixSocketOptions {
  /** Permission bits of the socket file (0o666: any local user may connect). */
  mode: number;
  /** Create the directory (mode 0755) when it is missing. */
  createDirectory?: boolean;
}

export interface UnixSocketListener {
  path: string;
  /** Remove the socket file, unless another server has replaced it since. */
  release(): Promise<void>;
}

const STICKY = 0o1000;
const WRITABLE_BY_OTHERS = 0o022;

function ownerOf(uid: number): string {
  return uid === 0 ? 'root' : `uid ${uid}`;
}

/**
 * The directory must not let another user replace the socket: owned by root or by us, and either
 * not writable by group and others or sticky (as /tmp: only a file's owner may remove it).
 */
async function checkDirectory(path: string, create: boolean): Promise<void> {
  const directory = dirname(path);
  const unusable = (error: NodeJS.ErrnoException) => {
    throw new SocketPathError(path, `its directory ${directory} cannot be ${create ? 'created' : 'read'} (${error.code ?? error.message})`, { cause: error });
  };
  if (create) await mkdir(directory, { recursive: true, mode: 0o755 }).catch(unusable);
  const stat = await lstat(directory).catch(unusable);
  const me = process.getuid?.() ?? 0;
  if (!stat.isDirectory()) throw new SocketPathError(path, `${directory} is not a directory`);
  if (stat.uid !== 0 && stat.uid !== me) throw new SocketPathError(path, `${directory} belongs to ${ownerOf(stat.uid)}, who could replace the socket`);
  if (stat.mode & WRITABLE_BY_OTHERS && !(stat.mode & STICKY)) {
    throw new SocketPathError(path, `${directory} is writable by other users and not sticky, so they could replace the socket`);
  }
}

/** Does a server accept connections on this socket file? ECONNREFUSED: a file left by a dead server. */
function probe(path: string): Promise<'live' | 'stale' | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('live');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'stale' : error));
  });
}

/** Make `path` free for our socket, or say why it cannot be. */
async function claim(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new SocketPathError(path, `it cannot be examined (${error.code ?? error.message})`, { cause: error });
  });
  if (!stat) return;
  if (!stat.isSocket()) throw new SocketPathError(path, `it exists, owned by ${ownerOf(stat.uid)}, and is not a socket; remove it or choose another path`);
  const state = await probe(path);
  if (state === 'live') throw new SocketPathError(path, `another server (the socket belongs to ${ownerOf(stat.uid)}) is listening on it`);
  if (state !== 'stale') throw new SocketPathError(path, `the socket there (owned by ${ownerOf(stat.uid)}) cannot be probed (${state.code ?? state.message})`, { cause: state });
  await unlink(path);
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new SocketPathError(path, `listen failed (${error.code ?? error.message})`, { cause: error }));
    server.once('error', failed);
    server.listen(path, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** Listen on `path` under the rules above; throws SocketPathError (nothing listens then). */
export async function listenUnixSocket(server: Server, path: string, options: UnixSocketOptions): Promise<UnixSocketListener> {
  await checkDirectory(path, options.createDirectory ?? false);
  await claim(path);
  await listen(server, path);
  // Set on the file we just created: the directory check above means nobody else can have swapped it.
  await chmod(path, options.mode);
  // Inode numbers are reused at once on tmpfs; with the change time (ns) they name this file.
  const ours = await lstat(path, { bigint: true });
  return {
    path,
    async release() {
      const now = await lstat(path, { bigint: true }).catch(() => undefined);
      if (now?.ino === ours.ino && now.dev === ours.dev && now.ctimeNs === ours.ctimeNs) await unlink(path);
    },
  };
}
