// The XML-RPC compatibility shim (docs/xmlrpc.md): our own `http` servers on the API Unix sockets
// and on loopback TCP. The xmlrpc package's own server is not used: it hides the socket (no caller
// identity), answers bad input with an empty 404 and crashes on a throwing handler. Here every
// request ends in HTTP 200 with a methodResponse or a fault, whatever the input, or, if even a
// fault cannot be written, in a closed connection: never in a rejection nobody handles.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { SocketPathError, UsageError } from '../../../resources/errors.js';
import type { Store } from '../../store/contract.js';
import { CommittedReads, type CommittedCache } from '../../store/committed-reads.js';
import type { NodeAdapter } from '../../node/contract.js';
import { BodyTooLargeError, readBoundedBody } from '../../support/body.js';
import { registeredMetric } from '../../support/metrics.js';
import { listenUnixSocket, type UnixSocketListener } from '../../support/unix-socket.js';
import { ConnectionBudget, createApiHttpServer, listenTcp, listeningPort } from '../http-server.js';
import { connectionUid, resolveCaller } from '../identity/caller.js';
import { XmlRpcFault, decodeMethodCall, encodeFault, encodeResponse, type MethodCall } from './codec.js';
import { answerPlainRequestsFirst } from './fast-path.js';
import { FAULT_CALL_FAILED, callApiMethod, isApiMethod, type ApiContext } from './methods.js';
import { DEFAULT_XMLRPC_SOCKET, LEGACY_XMLRPC_SOCKET } from './sockets.js';

export { DEFAULT_XMLRPC_SOCKET, LEGACY_XMLRPC_SOCKET };

export const DEFAULT_XMLRPC_PORT = 812;
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
/** Faults about the request itself (not the method), as Python's SimpleXMLRPCServer numbers them. */
export const FAULT_BAD_REQUEST = 1;
/** What a client is told when its answer could not be encoded; the cause goes to the log. */
const ENCODING_FAILED = new XmlRpcFault(FAULT_CALL_FAILED, 'Error in call: internal error while encoding the answer (logged by slvd)');

export interface XmlRpcShimOptions {
  store: Store;
  /** slvd's informer: reads are answered from it whenever it holds what the store has committed. */
  cache?: CommittedCache;
  node: NodeAdapter;
  /** Unix socket path, mode 0666 (default /run/slv/sliver_mgr.api); its directory is created. */
  socketPath?: string;
  /** More Unix socket paths served the same way (the legacy /tmp/sliver_mgr.api for old clients). */
  extraSocketPaths?: string[];
  /** TCP port on `host` (default 812); 0 = no TCP listener. */
  port?: number;
  /** Default 127.0.0.1: the TCP identity check only works for peers on this host. */
  host?: string;
  /** Larger request bodies are refused with a fault (default 1 MiB). */
  maxRequestBytes?: number;
  /** Shared with the other API listeners (default: a budget of its own with the default limits). */
  connections?: ConnectionBudget;
  log?: Logger;
  /** Where `slv_xmlrpc_calls_total` is registered (absent: not counted). */
  metrics?: Registry;
  /** Unix seconds (tests may fix it). */
  nowSeconds?: () => number;
}

/** A Unix socket path and whether the shim serves on it (if not, why: a squatter, a bad directory). */
export interface SocketReport {
  path: string;
  serving: boolean;
  problem?: string;
}

export interface XmlRpcShim {
  /** The first socket path. */
  socketPath: string;
  sockets: SocketReport[];
  /** The TCP port listened on, if any. */
  tcpPort?: number;
  close(): Promise<void>;
}

/** Resolves once the answer is handed to the OS (or the connection is gone). */
function send(response: ServerResponse, xml: string, closeAfter: boolean): Promise<void> {
  // A peer that went partway through its request: the response is closed already and would never say so again.
  if (response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    response.once('close', resolve);
    response.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(xml), ...(closeAfter ? { Connection: 'close' } : {}) });
    response.end(xml, resolve);
  });
}

/** What every request handler shares: the API, the limits, and the calls being answered. */
interface Shared {
  context: ApiContext;
  maxRequestBytes: number;
  log?: Logger;
  /** Calls dispatched and not yet answered: close() waits for them, so no store write is cut halfway. */
  calls: Set<Promise<void>>;
  /** Connections the plain-request path holds, not yet answered or handed to Node's server. */
  held: Set<Socket>;
  /** Answered calls by method and fault code ("0": no fault). */
  counted?: Counter<'method' | 'fault'>;
}

function callCounter(registry: Registry): Counter<'method' | 'fault'> {
  const name = 'slv_xmlrpc_calls_total';
  const help = 'XML-RPC calls by method (other: not an API method) and fault code (0: answered without a fault)';
  return registeredMetric(registry, name, () => new Counter({ name, help, labelNames: ['method', 'fault'], registers: [registry] }));
}

/** The request's method call; request-level problems are fault 1. */
async function readCall(request: IncomingMessage, maxRequestBytes: number): Promise<MethodCall> {
  if (request.method !== 'POST') throw new XmlRpcFault(FAULT_BAD_REQUEST, `XML-RPC requests must be HTTP POST, not ${request.method ?? 'unknown'}`);
  let body: Buffer;
  try {
    body = await readBoundedBody(request, maxRequestBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new XmlRpcFault(FAULT_BAD_REQUEST, `Request too large: the limit is ${maxRequestBytes} bytes`, { cause: error });
    throw error;
  }
  return decodeCall(body);
}

function decodeCall(body: Buffer): MethodCall {
  try {
    return decodeMethodCall(body);
  } catch (error) {
    throw new XmlRpcFault(FAULT_BAD_REQUEST, `Malformed XML-RPC request: ${(error as Error).message}`, { cause: error });
  }
}

/** The answer's XML: the result, or the fault the failure amounts to; never throws. */
function answerXml(outcome: { result: unknown } | { error: unknown }, log: Logger | undefined): string {
  try {
    if ('result' in outcome) return encodeResponse(outcome.result);
    const { error } = outcome;
    const fault = error instanceof XmlRpcFault ? error : new XmlRpcFault(FAULT_CALL_FAILED, `Error in call: ${(error as Error)?.message ?? String(error)}`);
    if (fault.faultCode === FAULT_CALL_FAILED) log?.warn({ err: error }, 'XML-RPC call failed');
    return encodeFault(fault);
  } catch (error) {
    log?.error({ err: error }, 'XML-RPC answer could not be encoded; sent a generic fault');
    return encodeFault(ENCODING_FAILED);
  }
}

/** The outcome of the call `readCall` yields, made by the peer of `socket`, counted. */
async function callOutcome(readCall: () => Promise<MethodCall> | MethodCall, socket: Socket, shared: Shared): Promise<{ result: unknown } | { error: unknown }> {
  let outcome: { result: unknown } | { error: unknown };
  let method = 'other';
  try {
    const call = await readCall();
    // Only API method names become label values: a client's made-up names would grow the series without bound.
    if (isApiMethod(call.method)) method = call.method;
    const { context } = shared;
    const identify = async () => {
      const uid = connectionUid(socket);
      return uid === undefined ? undefined : resolveCaller(uid, context.node);
    };
    outcome = { result: await callApiMethod(context, identify, call.method, call.params) };
  } catch (error) {
    outcome = { error };
  }
  shared.counted?.inc({ method, fault: 'error' in outcome ? String(outcome.error instanceof XmlRpcFault ? outcome.error.faultCode : FAULT_CALL_FAILED) : '0' });
  return outcome;
}

async function answer(request: IncomingMessage, response: ServerResponse, shared: Shared): Promise<void> {
  const outcome = await callOutcome(() => readCall(request, shared.maxRequestBytes), request.socket, shared);
  // A body refused unread leaves the rest of it on the connection: answer, then close.
  const undrained = 'error' in outcome && outcome.error instanceof XmlRpcFault && outcome.error.cause instanceof BodyTooLargeError && !outcome.error.cause.drained;
  await send(response, answerXml(outcome, shared.log), undrained);
}

/** Tracked in `shared.calls` like every call, so close() waits for it. */
function tracked(shared: Shared, call: Promise<void>): void {
  shared.calls.add(call);
  void call.finally(() => shared.calls.delete(call));
}

function handler(shared: Shared) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    tracked(
      shared,
      answer(request, response, shared).catch((error: unknown) => {
        shared.log?.error({ err: error }, 'XML-RPC request could not be answered; connection closed');
        response.destroy();
      }),
    );
  };
}

/** An HTTP server for one XML-RPC listener: plain HTTP/1.0 calls answered first (fast-path.ts), the rest through Node's server. */
function xmlRpcServer(connections: ConnectionBudget, shared: Shared): Server {
  const server = createApiHttpServer(connections, handler(shared));
  answerPlainRequestsFirst(server, {
    maxRequestBytes: shared.maxRequestBytes,
    held: shared.held,
    answer: (body, socket) => {
      const xml = callOutcome(() => decodeCall(body), socket, shared).then((outcome) => answerXml(outcome, shared.log));
      tracked(
        shared,
        xml.then(() => undefined),
      );
      return xml;
    },
  });
  return server;
}

/**
 * Start the shim on its Unix sockets and (unless port is 0) on TCP. A socket path that is taken
 * (another server, a file in the way, an unsafe directory) is reported in `sockets` and skipped,
 * not fatal: the other listeners serve.
 */
export async function startXmlRpcShim(options: XmlRpcShimOptions): Promise<XmlRpcShim> {
  const socketPaths = [options.socketPath ?? DEFAULT_XMLRPC_SOCKET, ...(options.extraSocketPaths ?? [])];
  const port = options.port ?? DEFAULT_XMLRPC_PORT;
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`XML-RPC port must be an integer from 0 to 65535, got ${port}`);
  if (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 1) throw new UsageError(`XML-RPC request limit must be a positive number of bytes, got ${maxRequestBytes}`);
  const context: ApiContext = {
    store: options.store,
    reads: new CommittedReads(options.store, options.cache),
    node: options.node,
    nowSeconds: options.nowSeconds ?? (() => Math.floor(Date.now() / 1000)),
  };
  const shared: Shared = {
    context,
    maxRequestBytes,
    calls: new Set(),
    held: new Set(),
    ...(options.log ? { log: options.log } : {}),
    ...(options.metrics ? { counted: callCounter(options.metrics) } : {}),
  };
  const connections = options.connections ?? new ConnectionBudget();
  const servers: Server[] = [];
  const listeners: UnixSocketListener[] = [];
  const close = async (): Promise<void> => {
    const closed = Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    servers.forEach((server) => server.closeIdleConnections());
    // Let the calls dispatched finish their writes and answer, then cut whatever is left
    // (connections still sending a request, or kept alive).
    await Promise.allSettled([...shared.calls]);
    servers.forEach((server) => server.closeAllConnections());
    shared.held.forEach((socket) => socket.destroy());
    await closed;
    await Promise.all(listeners.map((listener) => listener.release()));
  };
  const shim: XmlRpcShim = { socketPath: socketPaths[0]!, sockets: [], close };

  try {
    for (const path of socketPaths) {
      const server = xmlRpcServer(connections, shared);
      try {
        listeners.push(await listenUnixSocket(server, path, { mode: 0o666, createDirectory: true }));
        servers.push(server);
        shim.sockets.push({ path, serving: true });
      } catch (error) {
        if (!(error instanceof SocketPathError)) throw error;
        options.log?.error({ err: error, path }, 'XML-RPC socket not served');
        shim.sockets.push({ path, serving: false, problem: error.message });
      }
    }
    if (port !== 0) {
      const tcpServer = xmlRpcServer(connections, shared);
      await listenTcp(tcpServer, port, options.host ?? '127.0.0.1');
      servers.push(tcpServer);
      const tcpPort = listeningPort(tcpServer);
      if (tcpPort !== undefined) shim.tcpPort = tcpPort;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return shim;
}
