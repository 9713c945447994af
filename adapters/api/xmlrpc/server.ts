// The XML-RPC compatibility shim (docs/behaviour.md §6): our own `http` servers on the API Unix socket and on
// loopback TCP. The xmlrpc package's own server is not used: it hides the socket (no caller
// identity), answers bad input with an empty 404 and crashes on a throwing handler. Here every
// request gets HTTP 200 with a methodResponse or a fault, whatever the input.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ROOT_UID } from '../../../resources/authz.js';
import { UnavailableError, UsageError } from '../../../resources/errors.js';
import type { Store } from '../../store/contract.js';
import type { NodeAdapter } from '../../node/contract.js';
import { peerCredentials } from '../identity/peercred.js';
import { tcpPeerUid } from '../identity/tcp-peer.js';
import { XmlRpcFault, decodeMethodCall, encodeFault, encodeResponse, type MethodCall } from './codec.js';
import { FAULT_CALL_FAILED, callApiMethod, type ApiContext, type Caller } from './methods.js';

export const DEFAULT_XMLRPC_SOCKET = '/tmp/sliver_mgr.api';
export const DEFAULT_XMLRPC_PORT = 812;
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
/** A client gets this long to send its whole request (forward_api_calls gives up after 30 s too). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Faults about the request itself (not the method), as Python's SimpleXMLRPCServer numbers them. */
export const FAULT_BAD_REQUEST = 1;

export interface XmlRpcShimOptions {
  store: Store;
  node: NodeAdapter;
  /** Unix socket path, mode 0666 (default /tmp/sliver_mgr.api). */
  socketPath?: string;
  /** TCP port on `host` (default 812); 0 = no TCP listener. */
  port?: number;
  /** Default 127.0.0.1: the TCP identity check only works for loopback peers. */
  host?: string;
  /** Larger request bodies are refused with a fault (default 1 MiB). */
  maxRequestBytes?: number;
  log?: Logger;
  /** Unix seconds (tests may fix it). */
  nowSeconds?: () => number;
}

export interface XmlRpcShim {
  socketPath: string;
  /** The TCP port listened on, if any. */
  tcpPort?: number;
  close(): Promise<void>;
}

type Identify = (socket: Socket) => Promise<number | undefined>;

function unixPeerUid(socket: Socket): Promise<number | undefined> {
  try {
    return Promise.resolve(peerCredentials(socket).uid);
  } catch {
    return Promise.resolve(undefined);
  }
}

/** TCP peers are looked up as soon as they are accepted: once a peer has closed, its row no longer names it. */
function tcpIdentities(): { onConnection(socket: Socket): void; identify: Identify } {
  const lookups = new WeakMap<Socket, Promise<number | undefined>>();
  return {
    onConnection(socket) {
      const { localAddress, localPort, remoteAddress, remotePort } = socket;
      const lookup =
        localAddress && localPort && remoteAddress && remotePort
          ? tcpPeerUid({ address: localAddress, port: localPort }, { address: remoteAddress, port: remotePort }).catch(() => undefined)
          : Promise.resolve(undefined);
      lookups.set(socket, lookup);
    },
    identify: (socket) => lookups.get(socket) ?? Promise.resolve(undefined),
  };
}

async function callerOf(node: NodeAdapter, uid: number | undefined): Promise<Caller> {
  if (uid === undefined) return {};
  const name = uid === ROOT_UID ? 'root' : await node.accountNameByUid(uid);
  return name === undefined ? { uid } : { uid, name };
}

/**
 * The request body, or undefined if it exceeds `limit`. An oversize body is still read to its end
 * (and dropped) so the client, which writes the whole request before reading, gets the fault
 * rather than a broken pipe; past DRAIN_FACTOR times the limit the connection is cut instead.
 */
const DRAIN_FACTOR = 64;
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
      else if (length > limit * DRAIN_FACTOR) request.destroy(new Error(`request body beyond ${limit * DRAIN_FACTOR} bytes`));
    });
    request.on('end', () => resolve(length > limit ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Resolves once the answer is handed to the OS (or the connection is gone). */
function send(response: ServerResponse, xml: string): Promise<void> {
  return new Promise((resolve) => {
    response.once('close', resolve);
    response.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(xml) });
    response.end(xml, resolve);
  });
}

function sendFault(response: ServerResponse, error: unknown, log?: Logger): Promise<void> {
  const fault = error instanceof XmlRpcFault ? error : new XmlRpcFault(FAULT_CALL_FAILED, `Error in call: ${(error as Error).message}`, { cause: error });
  if (fault.faultCode === FAULT_CALL_FAILED) log?.warn({ err: error }, 'XML-RPC call failed');
  return send(response, encodeFault(fault));
}

/** What every request handler shares: the API, the limits, and the calls being answered. */
interface Shared {
  context: ApiContext;
  maxRequestBytes: number;
  log?: Logger;
  /** Calls dispatched and not yet answered: close() waits for them, so no store write is cut halfway. */
  calls: Set<Promise<void>>;
}

/** The request's method call; request-level problems are fault 1. */
async function readCall(request: IncomingMessage, maxRequestBytes: number): Promise<MethodCall> {
  if (request.method !== 'POST') throw new XmlRpcFault(FAULT_BAD_REQUEST, `XML-RPC requests must be HTTP POST, not ${request.method ?? 'unknown'}`);
  const body = await readBody(request, maxRequestBytes);
  if (!body) throw new XmlRpcFault(FAULT_BAD_REQUEST, `Request too large: the limit is ${maxRequestBytes} bytes`);
  try {
    return decodeMethodCall(body);
  } catch (error) {
    throw new XmlRpcFault(FAULT_BAD_REQUEST, `Malformed XML-RPC request: ${(error as Error).message}`, { cause: error });
  }
}

async function resultXml(call: MethodCall, socket: Socket, shared: Shared, identify: Identify): Promise<string> {
  const { context } = shared;
  const result = await callApiMethod(context, () => identify(socket).then((uid) => callerOf(context.node, uid)), call.method, call.params);
  try {
    return encodeResponse(result);
  } catch (error) {
    throw new XmlRpcFault(FAULT_CALL_FAILED, `Error in call: the result cannot be encoded as XML-RPC (${(error as Error).message})`, { cause: error });
  }
}

function handler(shared: Shared, identify: Identify) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    readCall(request, shared.maxRequestBytes).then(
      (call) => {
        const answered = resultXml(call, request.socket, shared, identify).then(
          (xml) => send(response, xml),
          (error: unknown) => sendFault(response, error, shared.log),
        );
        shared.calls.add(answered);
        void answered.finally(() => shared.calls.delete(answered));
      },
      (error: unknown) => sendFault(response, error, shared.log),
    );
  };
}

function createShimServer(shared: Shared, identify: Identify): Server {
  const server = createServer(handler(shared, identify));
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  return server;
}

function listen(server: Server, target: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof target === 'string') server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

/** Removes a socket file left by a dead server; refuses a live one or anything that is not a socket. */
async function clearStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!stat) return;
  if (!stat.isSocket()) throw new UsageError(`XML-RPC socket path ${path} exists and is not a socket; remove it or choose another path`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new UnavailableError(`XML-RPC socket ${path} is in use by another process`);
  await unlink(path);
}

/** Start the shim on the Unix socket and (unless port is 0) on TCP. */
export async function startXmlRpcShim(options: XmlRpcShimOptions): Promise<XmlRpcShim> {
  const socketPath = options.socketPath ?? DEFAULT_XMLRPC_SOCKET;
  const port = options.port ?? DEFAULT_XMLRPC_PORT;
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`XML-RPC port must be an integer from 0 to 65535, got ${port}`);
  if (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 1) throw new UsageError(`XML-RPC request limit must be a positive number of bytes, got ${maxRequestBytes}`);
  const context: ApiContext = { store: options.store, node: options.node, nowSeconds: options.nowSeconds ?? (() => Math.floor(Date.now() / 1000)) };
  const shared: Shared = { context, maxRequestBytes, calls: new Set(), ...(options.log ? { log: options.log } : {}) };
  const servers: Server[] = [];
  let socketInode: number | undefined;
  const close = async (): Promise<void> => {
    const closed = Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    servers.forEach((server) => server.closeIdleConnections());
    // Let the calls dispatched finish their writes and answer, then cut whatever is left
    // (connections still sending a request, or kept alive).
    await Promise.allSettled([...shared.calls]);
    servers.forEach((server) => server.closeAllConnections());
    await closed;
    // Remove the socket file only if it is still ours (a successor may have replaced it).
    const stat = await lstat(socketPath).catch(() => undefined);
    if (stat && stat.ino === socketInode) await unlink(socketPath);
  };
  const shim: XmlRpcShim = { socketPath, close };

  try {
    await clearStaleSocket(socketPath);
    const unixServer = createShimServer(shared, unixPeerUid);
    await listen(unixServer, socketPath);
    servers.push(unixServer);
    socketInode = (await lstat(socketPath)).ino;
    await chmod(socketPath, 0o666); // any local user may call; the peer's uid decides what it may do

    if (port !== 0) {
      const identities = tcpIdentities();
      const tcpServer = createShimServer(shared, identities.identify);
      tcpServer.on('connection', identities.onConnection);
      await listen(tcpServer, { port, host: options.host ?? '127.0.0.1' });
      servers.push(tcpServer);
      const address = tcpServer.address();
      if (address && typeof address === 'object') shim.tcpPort = address.port;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return shim;
}
