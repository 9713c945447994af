// The one loader of the native addon (native/peercred.cc, built by `npm install`): the kernel's
// answers Node has no API for.
import { createRequire } from 'node:module';

export interface NativeAddon {
  /** SO_PEERCRED of a connected Unix socket's descriptor; throws for anything else. */
  peerCred(fd: number): { pid: number; uid: number; gid: number };
  /** The owner of the TCP socket local ↔ remote (one sock_diag query), or null when there is none. */
  tcpSocketOwner(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): { uid: number; inode: number } | null;
  /** Sets RLIMIT_NOFILE's soft limit to its hard limit; returns both. */
  raiseOpenFileLimit(): { soft: number; hard: number };
}

export const native = createRequire(import.meta.url)('../../native/build/Release/peercred.node') as NativeAddon;
