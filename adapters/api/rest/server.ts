// slvd's REST API (docs/api.md): HTTP on a Unix socket, caller identity from SO_PEERCRED.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Caller } from '../../../resources/authz.js';
import { BadRequestError, NotFoundError, SlvError } from '../../../resources/errors.js';
import type { Store } from '../../store/contract.js';
import { API_VERSION, PLURALS, SHORT_NAMES } from '../../../schemas/types.js';
import type { NodeAdapter } from '../../node/contract.js';
import { listenUnixSocket } from '../../support/unix-socket.js';
import { ConnectionBudget, createApiHttpServer } from '../http-server.js';
import { connectionUid, resolveCaller } from '../identity/caller.js';
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
  /** Shared with the other API listeners (default: a budget of its own with the default limits). */
  connections?: ConnectionBudget;
  log?: Logger;
}

export interface ApiServer {
  close(): Promise<void>;
}

/** The metric, already in the registry (a restarted server in the same process), or a new one. */
function registered<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** The path and query of a request line, parsed without resolving it against a base: `//x` is a path, not a host. */
interface RequestTarget {
  pathname: string;
  searchParams: URLSearchParams;
}

function requestTarget(raw: string): RequestTarget {
  const question = raw.indexOf('?');
  const pathname = question < 0 ? raw : raw.slice(0, question);
  if (!pathname.startsWith('/')) throw new BadRequestError(`the request path must start with "/", got ${JSON.stringify(pathname.slice(0, 100))}`);
  return { pathname, searchParams: new URLSearchParams(question < 0 ? '' : raw.slice(question + 1)) };
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
    const uid = connectionUid(req.socket);
    if (uid === undefined) throw new SlvError('Unauthorized', 'cannot identify the caller: the kernel named no peer for this connection');
    return resolveCaller(uid, node);
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: RequestTarget): Promise<void> {
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

  const server = createApiHttpServer(options.connections ?? new ConnectionBudget(), (req, res) => {
    const started = process.hrtime.bigint();
    const verb = (req.method ?? 'GET').toLowerCase();
    let resource = 'other';
    const handled = (async () => {
      const target = requestTarget(req.url ?? '/');
      resource = metricResource(target.pathname);
      await route(req, res, target);
    })();
    // Every request ends in an answer or a closed connection, whatever fails on the way.
    void handled
      .catch((error: unknown) => {
        if (!(error instanceof SlvError)) options.log?.error({ err: error, method: req.method, url: req.url }, 'REST request failed');
        sendError(res, error);
      })
      .catch((error: unknown) => {
        options.log?.error({ err: error }, 'REST error answer could not be sent; connection closed');
        res.destroy();
      })
      .finally(() => {
        requests.inc({ verb, resource, code: res.statusCode });
        latency.observe({ verb, resource }, Number(process.hrtime.bigint() - started) / 1e9);
      })
      .catch((error: unknown) => options.log?.error({ err: error }, 'REST request metrics not recorded'));
  });

  const socket = await listenUnixSocket(server, socketPath, { mode: 0o666 }); // any local user; authorization is per request, by uid

  return {
    close: () =>
      new Promise<void>((resolve, reject) => {
        resources.endWatches();
        server.close((error) => (error ? reject(error) : socket.release().then(resolve, reject)));
        server.closeIdleConnections();
      }),
  };
}
