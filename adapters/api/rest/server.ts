// slvd's REST API (docs/api.md): HTTP on a Unix socket, caller identity from SO_PEERCRED.
import { lstatSync, chmodSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ROOT_UID, type Caller } from '../../../resources/authz.js';
import { NotFoundError, SlvError, UsageError } from '../../../resources/errors.js';
import type { Store } from '../../store/contract.js';
import { API_VERSION, PLURALS, SHORT_NAMES } from '../../../schemas/types.js';
import type { NodeAdapter } from '../../node/contract.js';
import { peerCredentials } from '../identity/peercred.js';
import { MAX_BODY_BYTES, sendError, sendJson, sendText } from './http.js';
import { ResourceApi } from './handlers.js';
import { API_PREFIX, parseResourcePath, resourceList } from '../routes.js';
import { SLV_VERSION } from '../../../resources/version.js';

export interface ApiServerOptions {
  store: Store;
  socketPath: string;
  /** /metrics serves this registry; the API's own request metrics are registered in it. */
  metrics: Registry;
  /** /readyz answers 200 while this is true. */
  ready: () => boolean;
  /** Maps the peer uid to an account name. */
  node: NodeAdapter;
  maxBodyBytes?: number;
}

export interface ApiServer {
  close(): Promise<void>;
}

/** The metric, already in the registry (a restarted server in the same process), or a new one. */
function registered<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Does something answer on this Unix socket? (ECONNREFUSED: a stale file left by a dead server.) */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve(false);
      else reject(new UsageError(`cannot check the API socket ${path}: ${error.message}`, { cause: error }));
    });
  });
}

/** Make `path` free for a new socket: remove a stale socket, refuse a live server or a non-socket file. */
async function claimSocketPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!isSocket) throw new UsageError(`the API socket path ${path} exists and is not a socket; refusing to replace it`);
  if (await socketAnswers(path)) throw new UsageError(`another server is already listening on the API socket ${path}`);
  unlinkSync(path);
}

const PLURAL_NAMES = new Set(Object.values(PLURALS));
const PLAIN_PATHS = new Set(['/healthz', '/readyz', '/version', '/metrics', API_PREFIX]);

/** The `resource` label of a request: a plural, a known path, or "other", so label values stay bounded. */
function metricResource(pathname: string): string {
  const plural = pathname.startsWith(`${API_PREFIX}/`) ? pathname.slice(API_PREFIX.length + 1).split('/')[0]! : undefined;
  if (plural !== undefined) return PLURAL_NAMES.has(plural) ? plural : 'other';
  return PLAIN_PATHS.has(pathname) ? pathname : 'other';
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { store, socketPath, metrics, ready, node } = options;
  const resources = new ResourceApi(store, options.maxBodyBytes ?? MAX_BODY_BYTES);
  const requests = registered(
    metrics,
    'apiserver_request_total',
    () => new Counter({ name: 'apiserver_request_total', help: 'REST API requests by verb, resource and HTTP code', labelNames: ['verb', 'resource', 'code'], registers: [metrics] }),
  );
  const latency = registered(
    metrics,
    'apiserver_request_duration_seconds',
    () =>
      new Histogram({
        name: 'apiserver_request_duration_seconds',
        help: 'REST API response time by verb and resource (watches: until the stream opens)',
        labelNames: ['verb', 'resource'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers: [metrics],
      }),
  );

  async function identify(req: IncomingMessage): Promise<Caller> {
    const { uid } = peerCredentials(req.socket);
    return { uid, account: uid === ROOT_UID ? 'root' : await node.accountNameByUid(uid) };
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const resource = parseResourcePath(url.pathname);
    if (resource) return resources.handle({ req, res, route: resource, query: url.searchParams, caller: await identify(req) });
    if (method !== 'GET') throw new SlvError('MethodNotAllowed', `${method} is not supported on ${url.pathname}`);
    switch (url.pathname) {
      case '/healthz':
        sendText(res, 200, 'ok\n');
        break;
      case '/readyz':
        if (ready()) sendText(res, 200, 'ok\n');
        else sendText(res, 503, 'not ready\n');
        break;
      case '/version':
        sendJson(res, 200, { version: SLV_VERSION, apiVersion: API_VERSION, node: process.version });
        break;
      case '/metrics':
        sendText(res, 200, await metrics.metrics(), metrics.contentType);
        break;
      case API_PREFIX:
        sendJson(res, 200, resourceList(SHORT_NAMES));
        break;
      default:
        throw new NotFoundError('path', url.pathname);
    }
  }

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const verb = (req.method ?? 'GET').toLowerCase();
    const resource = metricResource(url.pathname);
    route(req, res, url)
      .catch((error: unknown) => sendError(res, error))
      .finally(() => {
        requests.inc({ verb, resource, code: res.statusCode });
        latency.observe({ verb, resource }, Number(process.hrtime.bigint() - started) / 1e9);
      });
  });
  // Read the identity as soon as the peer connects, while the descriptor certainly exists.
  server.on('connection', (socket) => {
    try {
      peerCredentials(socket);
    } catch {
      // Kept on the socket: every request on it is refused with 401.
    }
  });

  await claimSocketPath(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Local users connect with their own uid; authorization is per request, by that uid.
  chmodSync(socketPath, 0o666);

  return {
    close: () =>
      new Promise<void>((resolve, reject) => {
        resources.endWatches();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
