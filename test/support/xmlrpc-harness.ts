// A running XML-RPC shim over a real SQLite store and the sim node, in a world-readable temp dir,
// and Python's xmlrpc.client as the foreign client (optionally under another uid).
import { sliverObject } from './sliver-objects.js';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createSimAdapter, type SimAdapter } from '../../adapters/node/sim/index.js';
import { openSqliteStore, type SqliteStore } from '../../adapters/store/sqlite.js';
import { startXmlRpcShim, type XmlRpcShim, type XmlRpcShimOptions } from '../../adapters/api/xmlrpc/server.js';
import { Informer } from '../../controller/runtime/informer.js';
import { systemClock } from '../../controller/runtime/clock.js';
import { silentLog } from './runtime-helpers.js';
import type { Sliver, SliverSpec } from '../../schemas/types.js';
import { needs } from './host-needs.js';
import { stageFile, worldReadableTempDir } from './staging.js';

/** For node:test's `skip`: the foreign clients run as other uids, which only root can do. */
export const NEEDS_ROOT = needs('the clients run as other uids', 'python3');

export interface ShimWorld {
  dir: string;
  store: SqliteStore;
  node: SimAdapter;
  shim: XmlRpcShim;
  /** `unix:<socket>` for the Python client. */
  unixEndpoint: string;
  close(): Promise<void>;
}

/** A TCP port nobody listens on right now (the kernel's choice of an ephemeral port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export type WorldOptions = Partial<Pick<XmlRpcShimOptions, 'port' | 'nowSeconds' | 'maxRequestBytes' | 'socketPath'>> & {
  /** Accounts the sim node resolves by uid without managing them (e.g. real host accounts). */
  systemAccounts?: Record<string, number>;
  /** An informer over the store for the shim to read from, as slvd has (the cached-reads test, the bench). */
  cache?: boolean;
};

export async function startWorld(options: WorldOptions = {}): Promise<ShimWorld> {
  const { systemAccounts, cache, ...shimOptions } = options;
  const dir = worldReadableTempDir('slv-xmlrpc-');
  const store = openSqliteStore(join(dir, 'store.db'));
  const node = createSimAdapter({ dataDir: join(dir, 'node'), systemAccounts: systemAccounts ?? {} });
  const socketPath = options.socketPath ?? join(dir, 'api.sock');
  stageFile(new URL('../fixtures/xmlrpc-client.py', import.meta.url), dir);
  // As in slvd: the shim reads from an informer over the store whenever it is current.
  const informer = cache ? new Informer({ store, clock: systemClock, log: silentLog }) : undefined;
  await informer?.start();
  const shim = await startXmlRpcShim({ store, node, port: 0, ...shimOptions, socketPath, ...(informer ? { cache: informer } : {}) });
  return {
    dir,
    store,
    node,
    shim,
    unixEndpoint: `unix:${socketPath}`,
    async close() {
      await shim.close();
      await informer?.close();
      await node.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sliver(name: string, spec: Partial<SliverSpec> = {}): Sliver {
  return sliverObject(name, spec);
}

export type Outcome = { result: unknown } | { fault: { code: number; string: string } };
export type PythonCall = { method: string; params?: unknown[] } | { raw: string };

/** Run the calls with Python's xmlrpc.client (as `uid` if given) and return one outcome per call. */
export function pythonCalls(world: ShimWorld, endpoint: string, calls: PythonCall[], uid?: number): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      [join(world.dir, 'xmlrpc-client.py'), endpoint],
      { cwd: world.dir, env: { PATH: '/usr/bin:/bin' }, timeout: 30_000, ...(uid === undefined ? {} : { uid, gid: uid }) },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`python client failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Outcome[]);
      },
    );
    child.stdin?.end(JSON.stringify(calls));
  });
}

/** One call through Python; returns its outcome. */
export async function pythonCall(world: ShimWorld, endpoint: string, method: string, params: unknown[] = [], uid?: number): Promise<Outcome> {
  const [outcome] = await pythonCalls(world, endpoint, [{ method, params }], uid);
  return outcome!;
}

/** Parse a methodResponse with the xmlrpc package's client-side deserializer (a second, independent decoder). */
export function parseReply(body: string): Promise<Outcome> {
  const Deserializer = createRequire(import.meta.url)('xmlrpc/lib/deserializer.js') as new () => {
    deserializeMethodResponse(stream: NodeJS.ReadableStream, callback: (error: (Error & { faultCode?: number; faultString?: string }) | null, value?: unknown) => void): void;
  };
  return new Promise((resolve, reject) => {
    const stream = new PassThrough();
    new Deserializer().deserializeMethodResponse(stream, (error, value) => {
      if (!error) resolve({ result: value });
      else if (error.faultCode !== undefined) resolve({ fault: { code: error.faultCode, string: error.faultString ?? '' } });
      else reject(error);
    });
    stream.end(body);
  });
}

/** A Unix socket path, or a port on 127.0.0.1. */
export type Endpoint = string | { port: number };

/** POST a raw body to the endpoint (as this process: root) and return the HTTP status and body. */
export function rawPost(endpoint: Endpoint, body: string | Buffer, headers: Record<string, string | number> = {}, method = 'POST'): Promise<{ status: number; body: string }> {
  const target = typeof endpoint === 'string' ? { socketPath: endpoint } : { host: '127.0.0.1', port: endpoint.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: '/', method, headers: { 'Content-Type': 'text/xml', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The XML of one methodCall, params given as XML-RPC value contents (e.g. `<string>a</string>`). */
export function methodCallXml(method: string, paramsXml: string[]): string {
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${paramsXml.map((p) => `<param><value>${p}</value></param>`).join('')}</params></methodCall>`;
}

/**
 * Build forward_api_calls with native/Makefile into `dir` (world-readable, so other uids can run
 * it) with a build-time socket path and extra compiler flags; returns the binary's path.
 */
export function buildForwardApiCalls(dir: string, socketPath: string, extraCflags = ''): string {
  const out = join(dir, 'forward_api_calls');
  const native = fileURLToPath(new URL('../../native', import.meta.url));
  execFileSync('make', ['-s', '-B', '-C', native, `OUT=${out}`, `SOCKET_PATH=${socketPath}`, `CFLAGS=-O2 ${extraCflags}`], { stdio: 'pipe' });
  return out;
}

/** Run a program with `input` on stdin; resolves with its exit code and stdout. */
export function runWithInput(
  file: string,
  args: string[],
  input: string | Buffer,
  options: { uid?: number; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? { PATH: '/usr/bin:/bin' },
      timeout: options.timeoutMs ?? 30_000,
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined); // a program that refuses its input may close stdin early
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
    child.stdin.end(input);
  });
}
