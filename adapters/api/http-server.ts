// The HTTP server under every API listener (REST, XML-RPC on the Unix socket and on TCP): timeouts,
// answers to clients that half-close, and a budget of connections shared by all listeners: a
// total, so descriptors never run out, and a share per uid, so one local user cannot take them all. The peer's uid is asked of the kernel once, at accept (identity/caller.ts);
// a connection over either limit is closed at once, before anything is read from it. Root (and the operator, identity/caller.ts) is never
// refused: the operator and slvctl must get in whatever the others do.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { connectionUid, isOperator } from './identity/caller.js';

export interface ConnectionLimits {
  /** Connections open at once, all uids together (root aside). */
  total: number;
  /** Connections open at once per uid; peers the kernel cannot name share one allowance. */
  perUid: number;
}

const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { total: 1024, perUid: 32 };

/** The default limits, the total kept to half the open-file limit so the store, PLC and the node adapter always get descriptors. */
export function connectionLimitsFor(openFileLimit: number): ConnectionLimits {
  const total = Math.max(1, Math.min(DEFAULT_CONNECTION_LIMITS.total, Math.floor(openFileLimit / 2)));
  return { total, perUid: Math.min(DEFAULT_CONNECTION_LIMITS.perUid, total) };
}

/**
 * Until a complete request has arrived a connection counts as idle: it is answered 408 and closed
 * after this long. Shorter than REQUEST_TIMEOUT_MS, so a client that connects and sends nothing
 * holds its place a third as long as a slow request may take.
 */
export const IDLE_TIMEOUT_MS = 10_000;
/** A client gets this long to send its whole request. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node checks connections against the two timeouts above. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** The http server options that put IDLE_TIMEOUT_MS and REQUEST_TIMEOUT_MS in force. */
const TIMEOUTS = { headersTimeout: IDLE_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS } as const;

export class ConnectionBudget {
  private open = 0;
  private readonly perUid = new Map<number | undefined, number>();

  constructor(readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`connection limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }

  /** Count the connection until it closes, or close it now if its uid or everyone is over the limit. */
  admit(socket: Socket): void {
    const uid = connectionUid(socket);
    if (uid !== undefined && isOperator(uid)) return;
    const mine = this.perUid.get(uid) ?? 0;
    if (this.open >= this.limits.total || mine >= this.limits.perUid) {
      socket.destroy();
      return;
    }
    this.open++;
    this.perUid.set(uid, mine + 1);
    socket.once('close', () => {
      this.open--;
      const left = (this.perUid.get(uid) ?? 1) - 1;
      if (left === 0) this.perUid.delete(uid);
      else this.perUid.set(uid, left);
    });
  }
}

/** A TLS listener's certificate chain and private key, PEM. */
export interface TlsIdentity {
  cert: string | Buffer;
  key: string | Buffer;
}

/** An HTTP server for an API listener (HTTPS with `tls`), its connections admitted through `budget`. */
export function createApiHttpServer(budget: ConnectionBudget, handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>, tls?: TlsIdentity): Server {
  // A TLS handshake counts as idle time: a peer that never finishes it is dropped as soon.
  const server = tls ? createHttpsServer({ ...TIMEOUTS, ...tls, handshakeTimeout: IDLE_TIMEOUT_MS }, handler) : createServer(TIMEOUTS, handler);
  // A client may half-close once its request is sent (forward_api_calls does): Node's default is to
  // end the connection then, dropping an answer not yet written. This keeps it open for the answer.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('connection', (socket: Socket) => budget.admit(socket));
  return server;
}

/**
 * Connections the kernel queues before accept (capped by net.core.somaxconn). Node's 511 fills under
 * a burst of connections, and a peer whose SYN is dropped retries only after a second.
 */
const LISTEN_BACKLOG = 4096;

/** Listen on TCP `host:port` (0: a free port; no host: every address); resolves once listening, rejects if the port is taken. */
export function listenTcp(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The port a TCP server listens on. */
export function listeningPort(server: Server): number | undefined {
  const address = server.address();
  return address && typeof address === 'object' ? address.port : undefined;
}
