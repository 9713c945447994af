// slvd's REST API (docs/api.md): HTTP on a Unix socket, caller identity from SO_PEERCRED; on a
// loopback TCP port for kubectl (docs/kubectl.md), the caller's uid asked of the kernel by sock_diag;
// and over HTTPS for remote clients, the caller named by a bearer token (identity/bearer.ts). The
// same server is a node's API (one store, authorization by account) or the fleet's (every node's
// namespace in etcd, docs/fleet.md; for the fleet's operator only, and not over HTTPS yet).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from '../../support/prometheus.js';
import { ROOT_UID, type Caller } from '../../../resources/authz.js';
import { BadRequestError, ForbiddenError, NotFoundError, SlvError } from '../../../resources/errors.js';
import type { Store } from '../../store/contract.js';
import { API_GROUP, PLURALS } from '../../../schemas/types.js';
import type { NodeAdapter } from '../../node/contract.js';
import { registeredMetric } from '../../support/metrics.js';
import { listenUnixSocket } from '../../support/unix-socket.js';
import { ConnectionBudget, createApiHttpServer, listenTcp, listeningPort, type TlsIdentity } from '../http-server.js';
import type { BearerTokens } from '../identity/bearer.js';
import { connectionUid, isOperator, resolveCaller } from '../identity/caller.js';
import { MAX_BODY_BYTES, sendError, sendJson, sendText } from './http.js';
import { ResourceApi } from './handlers.js';
import { API_PREFIX, NODES_PLURAL, parseNodesPath, parseResourcePath } from '../routes.js';
import type { FleetConnection } from '../../fleet/layout.js';
import {
  API_GROUP_DOCUMENT,
  API_GROUP_LIST,
  CORE_API_VERSIONS,
  OPENAPI_V3_GROUP_PATH,
  openApiV2,
  openApiV3,
  openApiV3Index,
  resourceList,
  versionInfo,
  type ApiScope,
} from '../../../resources/kube-discovery.js';

/** A node's API: its store, its accounts naming the callers. */
export interface NodeApiScope {
  store: Store;
  /** Maps the peer uid to an account name. */
  node: NodeAdapter;
}

/** The fleet API: every node's namespace in etcd, through this (admin) client. */
export interface FleetApiScope {
  fleet: { client: Etcd3; connection: FleetConnection };
}

export type ApiServerOptions = (NodeApiScope | FleetApiScope) & {
  socketPath: string;
  /** Also serve on this TCP port (0 or absent: not on TCP). */
  port?: number;
  /** The TCP listener's address (default 127.0.0.1: a peer's uid is only known for local peers). */
  host?: string;
  /** /metrics serves this registry; the API's own request metrics are registered in it. */
  metrics: Registry;
  /** /readyz answers 200 while this is true. */
  ready: () => boolean;
  maxBodyBytes?: number;
  /** Between watch bookmarks (default DEFAULT_BOOKMARK_INTERVAL_MS). */
  bookmarkIntervalMs?: number;
  /** Also serve over HTTPS, callers known by their bearer tokens only. */
  https?: HttpsListenerOptions;
  /** Shared with the other API listeners (default: a budget of its own with the default limits). */
  connections?: ConnectionBudget;
  log?: Logger;
};

export interface HttpsListenerOptions {
  /** 0: any free port. */
  port: number;
  /** Default: every address (the listener is for remote clients). */
  host?: string;
  tls: TlsIdentity;
  tokens: BearerTokens;
}

export interface ApiServer {
  /** The TCP port served, if any. */
  tcpPort?: number;
  /** The HTTPS port served, if any. */
  httpsPort?: number;
  close(): Promise<void>;
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
/** An Accept header that allows JSON (no header allows anything). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined) return true;
  return accept.split(',').some((range) => ['application/json', 'application/*', '*/*'].includes(range.split(';')[0]!.trim().toLowerCase()));
}

/** The discovery and schema documents of a node's or the fleet's API: fixed for the life of the process. */
function documentsFor(scope: ApiScope): Map<string, () => unknown> {
  return new Map<string, () => unknown>([
    ['/version', () => versionInfo({ nodeVersion: process.version, os: process.platform, arch: process.arch })],
    ['/api', () => CORE_API_VERSIONS],
    ['/apis', () => API_GROUP_LIST],
    [`/apis/${API_GROUP}`, () => API_GROUP_DOCUMENT],
    [API_PREFIX, () => resourceList(scope)],
    ['/openapi/v2', openApiV2],
    ['/openapi/v3', () => openApiV3Index(scope)],
    [`/openapi/v3/${OPENAPI_V3_GROUP_PATH}`, () => openApiV3(scope)],
  ]);
}
/** What a load balancer may ask without credentials; on HTTPS everything else needs a token. */
const HEALTH_PATHS = new Set(['/healthz', '/readyz']);
const PLAIN_PATHS = new Set([...HEALTH_PATHS, '/metrics', ...documentsFor('node').keys()]);

/** The `resource` label of a request: a plural, a known path, or "other", so label values stay bounded. */
function metricResource(pathname: string): string {
  if (!pathname.startsWith(`${API_PREFIX}/`)) return PLAIN_PATHS.has(pathname) ? pathname : 'other';
  const parts = pathname.slice(API_PREFIX.length + 1).split('/');
  const plural = parts[0] === 'namespaces' ? parts[2] : parts[0];
  return plural !== undefined && (PLURAL_NAMES.has(plural) || plural === NODES_PLURAL) ? plural : 'other';
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { socketPath, metrics, ready } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const nodeScope = 'store' in options ? options : undefined;
  // Only the fleet API loads the etcd client (etcd3, gRPC, protobufjs): a node's server never needs it.
  const fleet =
    'fleet' in options
      ? new (await import('./fleet.js')).FleetResources({
          client: options.fleet.client,
          fleet: options.fleet.connection,
          maxBodyBytes,
          ...(options.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: options.bookmarkIntervalMs }),
        })
      : undefined;
  const resources = nodeScope ? new ResourceApi(nodeScope.store, nodeScope.node, maxBodyBytes, options.bookmarkIntervalMs) : undefined;
  const documents = documentsFor(fleet ? 'fleet' : 'node');
  const requests = registeredMetric(
    metrics,
    'apiserver_request_total',
    () => new Counter({ name: 'apiserver_request_total', help: 'REST API requests by verb, resource and HTTP code', labelNames: ['verb', 'resource', 'code'], registers: [metrics] }),
  );
  const latency = registeredMetric(
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

  /** The one place a uid becomes a caller, whoever named the uid: the kernel or a bearer token. */
  async function callerOfUid(uid: number): Promise<Caller> {
    if (nodeScope) return resolveCaller(uid, nodeScope.node);
    // The fleet API acts with the fleet's admin credentials: only its operator may use it.
    if (!isOperator(uid)) throw new ForbiddenError(`uid ${uid} may not use the fleet API: only root and the uid it runs as (${process.getuid?.() ?? ROOT_UID}) may`);
    return { uid: ROOT_UID, account: uid === ROOT_UID ? 'root' : `uid-${uid}` };
  }

  /** The caller the kernel names for a local connection (Unix socket, loopback TCP). */
  async function kernelCaller(req: IncomingMessage): Promise<Caller> {
    const uid = connectionUid(req.socket);
    if (uid === undefined) throw new SlvError('Unauthorized', 'cannot identify the caller: the kernel named no peer for this connection');
    return callerOfUid(uid);
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: RequestTarget, caller: () => Promise<Caller>): Promise<void> {
    const method = req.method ?? 'GET';
    const resource = parseResourcePath(url.pathname);
    if (resource) {
      const context = { req, res, route: resource, query: url.searchParams, caller: await caller() };
      if (fleet) return fleet.handle(context);
      if (resource.namespace !== undefined) throw new SlvError('NotFound', `${url.pathname}: a node's API has no namespaces (the fleet API, slvd --role fleet-api, has)`);
      return resources!.handle(context);
    }
    const nodes = parseNodesPath(url.pathname);
    if (nodes) {
      if (!fleet) throw new SlvError('NotFound', `${url.pathname}: nodes are served by the fleet API (slvd --role fleet-api), not by a node's slvd`);
      await caller();
      return fleet.nodes({ req, res, query: url.searchParams }, nodes.name);
    }
    if (method !== 'GET') throw new SlvError('MethodNotAllowed', `${method} is not supported on ${url.pathname}`);
    switch (url.pathname) {
      case '/healthz':
        sendText(res, 200, 'ok\n');
        break;
      case '/readyz':
        if (ready()) sendText(res, 200, 'ok\n');
        else sendText(res, 503, 'not ready\n');
        break;
      case '/metrics':
        sendText(res, 200, await metrics.metrics(), metrics.contentType);
        break;
      default: {
        const document = documents.get(url.pathname);
        if (!document) throw new NotFoundError('path', url.pathname);
        // Kubernetes serves its OpenAPI v2 as protobuf too; slv only as JSON, and says so (406) rather than send what the client cannot read.
        if (!acceptsJson(req.headers.accept)) throw new SlvError('NotAcceptable', `${url.pathname} is served as application/json only, not ${req.headers.accept ?? ''}`);
        sendJson(res, 200, document());
      }
    }
  }

  /**
   * The request handler of a listener. With `tokens`, callers are known by bearer token only, and
   * need one for everything but the health checks: a remote stranger learns nothing, not even discovery.
   */
  const serving = (tokens?: BearerTokens) => (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const verb = (req.method ?? 'GET').toLowerCase();
    let resource = 'other';
    const handled = (async () => {
      const target = requestTarget(req.url ?? '/');
      resource = metricResource(target.pathname);
      if (!tokens) return route(req, res, target, () => kernelCaller(req));
      const caller = HEALTH_PATHS.has(target.pathname) ? undefined : await tokens.callerOf(req, callerOfUid);
      return route(req, res, target, async () => caller ?? tokens.callerOf(req, callerOfUid));
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
  };

  const connections = options.connections ?? new ConnectionBudget();
  const serve = serving();
  const server = createApiHttpServer(connections, serve);
  const socket = await listenUnixSocket(server, socketPath, { mode: 0o666 }); // any local user; authorization is per request, by uid
  const servers = [server];
  const closeAll = () =>
    Promise.all(
      servers.map(
        (each) =>
          new Promise<void>((resolve, reject) => {
            each.close((error) => (error ? reject(error) : resolve()));
            each.closeIdleConnections();
          }),
      ),
    );
  /** Listen on TCP too; if that fails, nothing stays open. */
  const listenAlso = async (port: number, host: string | undefined, handler: typeof serve, tls?: TlsIdentity): Promise<number | undefined> => {
    const tcpServer = createApiHttpServer(connections, handler, tls);
    try {
      await listenTcp(tcpServer, port, host);
    } catch (error) {
      await closeAll().finally(() => socket.release());
      throw error;
    }
    servers.push(tcpServer);
    return listeningPort(tcpServer);
  };
  const tcpPort = options.port ? await listenAlso(options.port, options.host ?? '127.0.0.1', serve) : undefined;
  const { https } = options;
  const httpsPort = https ? await listenAlso(https.port, https.host, serving(https.tokens), https.tls) : undefined;

  return {
    ...(tcpPort === undefined ? {} : { tcpPort }),
    ...(httpsPort === undefined ? {} : { httpsPort }),
    close: async () => {
      resources?.endWatches();
      await fleet?.close();
      await closeAll();
      await socket.release();
    },
  };
}
