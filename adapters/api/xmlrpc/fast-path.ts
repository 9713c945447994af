// The XML-RPC listeners answer the plainest request themselves, without Node's HTTP machinery: an
// HTTP/1.0 POST with a Content-Length and nothing else asked of the connection, which is what
// forward_api_calls and the original's clients send, one connection per call. Node's parser, request
// and response streams cost more CPU per call than the whole XML-RPC answer (docs/performance.md).
// Anything else, or anything in doubt (HTTP/1.1, keep-alive, chunked bodies, Expect, an odd header,
// a body larger than the limit or than a few reads), is handed to Node's HTTP server with the bytes
// read so far put back, so it behaves exactly as without this path. The answers are byte for byte
// what Node's server writes for the same request (test/integration/adapters/api/xmlrpc/fast-path.test.ts).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { IDLE_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../http-server.js';

/** What Node's server writes when a request does not arrive in time (lib/_http_server.js). */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
/** A head longer than this is not the plain kind: Node's parser takes it. */
const MAX_HEAD_BYTES = 8192;
/** A body that needs more than this is left to Node's streaming reader. */
const MAX_BUFFERED_BYTES = 64 * 1024;
/**
 * A request still not whole after this many reads is left to Node's parser, which reads
 * incrementally: here each read joins and scans all that came before, which a peer sending a byte
 * at a time would turn into quadratic work. Plain clients send their request in one or two writes.
 */
const MAX_PLAIN_READS = 8;
const HEAD_END = Buffer.from('\r\n\r\n');
/**
 * The whole head: the request line, then headers as RFC 9110 spells a token name and a value of
 * visible ASCII, spaces and tabs (no folding, no control bytes). Linear: no part can match another's text.
 */
const PLAIN_HEAD = /^POST \/[A-Za-z0-9/._~%-]* HTTP\/1\.0(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\x20-\x7e\t]*)*$/;
/** Headers that ask something of the connection or the body's framing: Node's server decides those. */
const LEFT_TO_NODE = /\r\n(?:connection|keep-alive|proxy-connection|transfer-encoding|expect|upgrade|te|trailer):/i;
const ANY_CONTENT_LENGTH = /\r\ncontent-length:/gi;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*([0-9]{1,9})[ \t]*(?:\r\n|$)/i;

/** Whether `bytes`, all a connection has sent so far, is a whole plain request (its body), not yet one, or another kind. */
export type PlainRequestScan = { body: Buffer } | 'incomplete' | 'other';

export function scanPlainRequest(bytes: Buffer, maxBodyBytes: number): PlainRequestScan {
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd < 0) return bytes.length > MAX_HEAD_BYTES ? 'other' : 'incomplete';
  if (headEnd > MAX_HEAD_BYTES) return 'other';
  const head = bytes.toString('latin1', 0, headEnd);
  if (!PLAIN_HEAD.test(head) || LEFT_TO_NODE.test(head) || head.match(ANY_CONTENT_LENGTH)?.length !== 1) return 'other';
  const declared = CONTENT_LENGTH.exec(head)?.[1];
  if (declared === undefined) return 'other';
  const contentLength = Number(declared);
  if (contentLength > maxBodyBytes) return 'other';
  const requestEnd = headEnd + HEAD_END.length + contentLength;
  if (requestEnd > MAX_BUFFERED_BYTES) return 'other';
  if (bytes.length < requestEnd) return 'incomplete';
  // Bytes past the body would be a second request: Node's server decides what that means.
  if (bytes.length > requestEnd) return 'other';
  return { body: bytes.subarray(headEnd + HEAD_END.length) };
}

let dateSecond = -1;
let dateHeader = '';
/** The Date header's value, formatted once a second as Node's server does. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateHeader = new Date(now).toUTCString();
  }
  return dateHeader;
}

/** The bytes Node's server writes for `writeHead(200, {Content-Type, Content-Length})` + `end(xml)` to an HTTP/1.0 request. */
export function plainResponse(xml: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\nDate: ${httpDate()}\r\nConnection: close\r\n\r\n${xml}`;
}

export interface PlainRequestOptions {
  maxRequestBytes: number;
  /** The answer's XML to a plain request's body from this connection; never rejects. */
  answer(body: Buffer, socket: Socket): Promise<string>;
  /** Connections this path holds (open, not handed to Node's server): the shim's close() destroys them. */
  held: Set<Socket>;
}

/**
 * Puts the plain-request path in front of `server`'s own connection handling: every accepted
 * connection is read here first, then answered here or handed to Node's HTTP server. Listeners
 * added to 'connection' after this (the connection budget) still run at accept.
 */
export function answerPlainRequestsFirst(server: Server, options: PlainRequestOptions): void {
  const [nodeConnectionListener] = server.listeners('connection') as ((socket: Socket) => void)[];
  // Node's http.Server registers its handler when constructed: it must be the one taken over.
  if (nodeConnectionListener?.name !== 'connectionListener') throw new Error("Node's http.Server no longer handles connections as this code expects");
  server.removeListener('connection', nodeConnectionListener);
  server.prependListener('connection', (socket: Socket) => readFirst(socket, () => nodeConnectionListener.call(server, socket), options));
}

function readFirst(socket: Socket, handToNode: () => void, options: PlainRequestOptions): void {
  const started = Date.now();
  let read: Buffer = Buffer.alloc(0);
  let reads = 0;
  // Held until it closes, answered or not, unless handed to Node's server (which then tracks it).
  options.held.add(socket);
  socket.once('close', () => options.held.delete(socket));
  const release = () => {
    socket.setTimeout(0);
    socket.removeListener('readable', onReadable);
    socket.removeListener('end', onEnd);
    socket.removeListener('timeout', onTimeout);
    socket.removeListener('error', onError);
  };
  const onError = () => socket.destroy();
  const onTimeout = () => {
    release();
    socket.on('error', onError);
    socket.end(REQUEST_TIMEOUT_RESPONSE, () => socket.destroy());
  };
  const handOver = () => {
    release();
    options.held.delete(socket);
    // Put back what was read, in this same turn (the stream has not announced its end yet), so
    // Node's parser sees the connection's bytes from the first.
    if (read.length > 0) socket.unshift(read);
    handToNode();
    socket.resume();
  };
  // The peer ended before a whole request: the stream has announced its end, so nothing can be put
  // back; Node's handlers get the bytes and the end as the events they listen to.
  const onEnd = () => {
    release();
    options.held.delete(socket);
    handToNode();
    if (read.length > 0) socket.emit('data', read);
    socket.emit('end');
  };
  const onReadable = () => {
    for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null; ) read = read.length === 0 ? chunk : Buffer.concat([read, chunk]);
    const scan = scanPlainRequest(read, options.maxRequestBytes);
    if (scan === 'other' || (scan === 'incomplete' && ++reads >= MAX_PLAIN_READS)) return handOver();
    if (scan === 'incomplete') {
      // Node's server allows the head IDLE_TIMEOUT_MS and the whole request REQUEST_TIMEOUT_MS.
      if (read.indexOf(HEAD_END) >= 0) socket.setTimeout(Math.max(1, REQUEST_TIMEOUT_MS - (Date.now() - started)));
      return;
    }
    release();
    socket.on('error', onError);
    void options.answer(scan.body, socket).then((xml) => {
      // As Node's server ends a `Connection: close` response: the socket goes once the answer is written.
      if (!socket.destroyed) socket.end(plainResponse(xml), () => socket.destroy());
    });
  };
  socket.on('readable', onReadable);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('timeout', onTimeout);
  socket.setTimeout(IDLE_TIMEOUT_MS);
}
