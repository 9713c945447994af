// Caller identity on loopback TCP: the peer of an accepted connection is the socket on this host
// whose local end is our remote end and whose remote end is our local end. The kernel is asked for
// that one socket (NETLINK_SOCK_DIAG, an exact 4-tuple lookup), so the cost does not grow with the
// number of connections on the host. SO_PEERCRED only exists for Unix sockets.
import { isIPv4 } from 'node:net';
import { native } from '../../support/native.js';

export interface TcpEndpoint {
  address: string;
  port: number;
}

const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** An IPv4 client of a dual-stack server shows as ::ffff:a.b.c.d; its own socket is IPv4. */
function plainAddress(address: string): string {
  const v4 = V4_MAPPED.exec(address)?.[1];
  return v4 !== undefined && isIPv4(v4) ? v4 : address.replace(/%.*$/, '');
}

/**
 * The uid owning the other end of the TCP connection `local` ↔ `remote` as seen by this process,
 * or undefined when no live socket matches (the peer is remote or in another network namespace, or
 * it already closed: a socket no process holds any more reports inode 0 and uid 0, and must never
 * be taken for root).
 */
export function tcpPeerUid(local: TcpEndpoint, remote: TcpEndpoint): number | undefined {
  const owner = native.tcpSocketOwner(plainAddress(remote.address), remote.port, plainAddress(local.address), local.port);
  return owner === null || owner.inode === 0 ? undefined : owner.uid;
}
