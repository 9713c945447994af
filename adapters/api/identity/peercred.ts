// Caller identity on a Unix socket: the peer's credentials as the kernel recorded them at connect
// (SO_PEERCRED). Read once per connection and cached on the socket, so a long keep-alive
// connection cannot change identity and the syscall is not repeated per request.
import type { Socket } from 'node:net';
import { SlvError } from '../../../resources/errors.js';
import { native } from '../../support/native.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** What the kernel reports as uid when a socket has no peer credentials ((uid_t)-1). */
export const NO_IDENTITY_UID = 4294967295;

const identities = new WeakMap<Socket, PeerCredentials | SlvError>();

function unauthorized(reason: string): SlvError {
  return new SlvError('Unauthorized', `cannot identify the caller: ${reason}`);
}

function readCredentials(socket: Socket): PeerCredentials | SlvError {
  // libuv keeps the descriptor on the handle; it is not part of Node's public API.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return unauthorized('the connection has no file descriptor (closed, or not a socket)');
  let credentials: PeerCredentials;
  try {
    credentials = native.peerCred(fd);
  } catch (error) {
    return unauthorized(`only Unix-socket peers are accepted (${(error as Error).message})`);
  }
  if (credentials.uid === NO_IDENTITY_UID) return unauthorized('the kernel reported no peer uid');
  return credentials;
}

/**
 * The peer's {pid, uid, gid} for a connected Unix socket. Throws an Unauthorized SlvError for
 * anything else (TCP, closed sockets, a peer without credentials); the outcome is cached per socket.
 */
export function peerCredentials(socket: Socket): PeerCredentials {
  let identity = identities.get(socket);
  if (identity === undefined) {
    identity = readCredentials(socket);
    identities.set(socket, identity);
  }
  if (identity instanceof SlvError) throw identity;
  return identity;
}
