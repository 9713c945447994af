// Who is calling, the same way for every listener (REST and XML-RPC, Unix socket and loopback TCP):
// the kernel names the peer's uid once, when the connection is accepted, and it is kept for the
// connection's life; the uid is named per request (accounts come and go).
import type { Socket } from 'node:net';
import { ROOT_UID, type Caller } from '../../../resources/authz.js';
import type { NodeAdapter } from '../../node/contract.js';
import { peerCredentials } from './peercred.js';
import { tcpPeerUid } from './tcp-peer.js';

const uids = new WeakMap<Socket, number | undefined>();

function askKernel(socket: Socket): number | undefined {
  if (socket.remoteFamily === undefined) {
    try {
      return peerCredentials(socket).uid;
    } catch {
      return undefined;
    }
  }
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  if (!localAddress || !localPort || !remoteAddress || !remotePort) return undefined;
  try {
    return tcpPeerUid({ address: localAddress, port: localPort }, { address: remoteAddress, port: remotePort });
  } catch {
    return undefined;
  }
}

/**
 * The uid of the connection's peer, or undefined when the kernel cannot say (a TCP peer on another
 * host or already gone). Ask at accept: once a TCP peer has closed, nothing names it any more.
 */
export function connectionUid(socket: Socket): number | undefined {
  if (!uids.has(socket)) uids.set(socket, askKernel(socket));
  return uids.get(socket);
}

/**
 * Whether `uid` may do what root may: root, and the uid slvd runs as. A slvd started by a user (the
 * sim adapter, development) is that user's: they own its process and data already, so its API
 * treats them as its operator, as the fleet API does. Run as root, only root is.
 */
export function isOperator(uid: number): boolean {
  return uid === ROOT_UID || uid === process.getuid?.();
}

/** The caller a uid is on this node: root (or the operator, as root), or the account the node adapter names (if any). */
export async function resolveCaller(uid: number, accounts: Pick<NodeAdapter, 'accountNameByUid'>): Promise<Caller> {
  if (isOperator(uid)) return { uid: ROOT_UID, account: 'root' };
  return { uid, account: await accounts.accountNameByUid(uid) };
}
