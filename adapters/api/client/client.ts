// A client of the REST API over its Unix socket, or `http://host:port` (slvctl, tests and benchmarks
// use it); against the fleet API, scoped to one node's namespace or across all of them. Failures are
// the typed errors of resources/errors.ts: a Status body becomes an SlvError with its reason, and
// a missing socket or a daemon that is down becomes an UnavailableError saying which.
import { Agent, request, type AgentOptions, type IncomingMessage } from 'node:http';
import { SlvError, StatusReasons, UnavailableError, UsageError, type StatusBody, type StatusReason } from '../../../resources/errors.js';
import type { WatchEventType } from '../../store/contract.js';
import { API_VERSION, type AnyObject, type Kind, type KindMap } from '../../../schemas/types.js';
import { SLIVER_LOANS_KIND, type LoanEntry, type SliverLoans } from '../../../resources/loans.js';
import { CONTENT_TYPES, nodesPath, parseWarnings, resourcePath, type Subresource } from '../routes.js';
import type { FleetNode } from '../../../resources/fleet.js';

export interface ApiResponse<T = unknown> {
  code: number;
  body: T;
  /** The texts of the answer's `Warning` headers (kubectl prints them as `Warning: TEXT`). */
  warnings: string[];
}

export interface ObjectList<T extends AnyObject> {
  items: T[];
  metadata: { resourceVersion: string };
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ApiWatchEvent {
  type: WatchEventType;
  object: AnyObject;
}

export interface ClientWatch {
  stop(): void;
  /** Settles when the stream ends: resolves if stopped or ended by the server, rejects on an ERROR event or a broken stream. */
  done: Promise<void>;
}

interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | undefined>;
}

function connectionError(server: string, error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case 'ENOENT':
      return new UnavailableError(`cannot connect to slvd: the API socket ${server} does not exist (is slvd running? choose the socket with --server or SLV_SERVER)`);
    case 'ECONNREFUSED':
      return new UnavailableError(`cannot connect to slvd: nothing is listening on ${server} (slvd is not running)`);
    case 'EACCES':
      return new UnavailableError(`cannot connect to slvd: permission denied on ${server}`);
    default:
      return new UnavailableError(`cannot talk to slvd on ${server}: ${error.message}`, { cause: error });
  }
}

/** Where requests go: a Unix socket path, or the host and port of an `http://` URL. */
function endpointOf(server: string): { socketPath: string } | { host: string; port: number } {
  // Any other scheme (https://: slvctl speaks no TLS, kubectl does) would otherwise be taken for a socket path.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(server)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'http') {
    throw new UsageError(`--server ${server}: slvctl talks to slvd over its Unix socket or http://host:port; for an HTTPS listener use kubectl (slvctl config kubeconfig --https)`);
  }
  if (scheme === undefined) return { socketPath: server };
  const url = new URL(server);
  if (url.pathname !== '/' || url.search) throw new UsageError(`--server ${server}: an http:// server is a host and port only, e.g. http://127.0.0.1:6443`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
}

export interface ClientScope {
  /** The fleet API: work in this node's namespace (slvctl -n NODE). */
  namespace?: string;
}

function isStatus(value: unknown): value is StatusBody {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}

/** A whole answer: its code, and its body parsed when it is JSON. */
async function readAnswer(res: IncomingMessage): Promise<ApiResponse> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  const code = res.statusCode ?? 0;
  const warnings = parseWarnings(res.headers.warning);
  if (!(res.headers['content-type'] ?? '').startsWith(CONTENT_TYPES.json)) return { code, body: raw, warnings };
  try {
    return { code, body: JSON.parse(raw) as unknown, warnings };
  } catch {
    throw new SlvError('InternalError', `slvd sent a malformed JSON answer (HTTP ${code})`);
  }
}

/** The error a failed answer stands for: its Status, or the reason its HTTP code means. */
function answerError({ code, body }: Pick<ApiResponse, 'code' | 'body'>): SlvError {
  if (isStatus(body)) return new SlvError(body.reason, body.message, body.details?.causes ?? []);
  const reason = (Object.keys(StatusReasons) as StatusReason[]).find((r) => StatusReasons[r] === code) ?? 'InternalError';
  return new SlvError(reason, `slvd answered HTTP ${code}: ${String(body).trim().slice(0, 200)}`);
}

function queryString(query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * Connections kept for the next request. servername '' (Node's Agent reads it, @types/node does not
 * list it): else the Agent works out a TLS server name for each request, testing the host against
 * Node's IPv6 pattern, whose first use costs ~7 ms of slvctl's start; plain HTTP sends none.
 */
const AGENT_OPTIONS: AgentOptions & { servername: string } = { keepAlive: true, servername: '' };

export class ApiClient {
  private readonly agent = new Agent(AGENT_OPTIONS);
  private readonly endpoint: { socketPath: string } | { host: string; port: number };
  readonly namespace: string | undefined;

  /** `server`: a Unix socket path or `http://host:port`. */
  constructor(
    readonly server: string,
    scope: ClientScope = {},
  ) {
    this.endpoint = endpointOf(server);
    this.namespace = scope.namespace;
  }

  /** The path of a kind's objects in the client's namespace (if any). */
  private path(kind: Kind, name?: string, subresource?: Subresource): string {
    return resourcePath(kind, name, subresource, this.namespace);
  }

  /** An object's path: in the client's namespace, else in the one the object names; the server refuses a body of another namespace than its path's. */
  private objectPath(object: AnyObject, withName: boolean): string {
    return resourcePath(object.kind, withName ? object.metadata.name : undefined, undefined, this.namespace ?? object.metadata.namespace);
  }

  private send(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...this.endpoint,
          agent: this.agent,
          method,
          path: `${path}${queryString(options.query)}`,
          headers: payload === undefined ? {} : { 'Content-Type': options.contentType ?? CONTENT_TYPES.json, 'Content-Length': Buffer.byteLength(payload) },
        },
        resolve,
      );
      req.on('error', (error: NodeJS.ErrnoException) => reject(error.code ? connectionError(this.server, error) : error));
      req.end(payload);
    });
  }

  /** One request; a non-2xx answer throws the SlvError its Status body describes. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const answer = await readAnswer(await this.send(method, path, options));
    if (answer.code < 200 || answer.code > 299) throw answerError(answer);
    return answer as ApiResponse<T>;
  }

  async get<K extends Kind>(kind: K, name: string): Promise<KindMap[K]> {
    return (await this.request<KindMap[K]>('GET', this.path(kind, name))).body;
  }

  async tryGet<K extends Kind>(kind: K, name: string): Promise<KindMap[K] | undefined> {
    try {
      return await this.get(kind, name);
    } catch (error) {
      if (error instanceof SlvError && error.reason === 'NotFound') return undefined;
      throw error;
    }
  }

  /** The client's namespace, or with `allNamespaces` every namespace of the fleet (objects carry metadata.namespace). */
  async list<K extends Kind>(kind: K, selectors: Selectors = {}, options: { allNamespaces?: boolean } = {}): Promise<ObjectList<KindMap[K]>> {
    const path = options.allNamespaces ? resourcePath(kind) : this.path(kind);
    return (await this.request<ObjectList<KindMap[K]>>('GET', path, { query: { ...selectors } })).body;
  }

  /** The fleet API's nodes, or one by name. */
  async nodes(name?: string): Promise<FleetNode[]> {
    const { body } = await this.request<FleetNode | { items: FleetNode[] }>('GET', nodesPath(name));
    return 'items' in body ? body.items : [body];
  }

  /** Server-side apply; the answer's code says whether it created (201) or not (200). */
  apply<T extends AnyObject>(object: T, options: { fieldManager: string; force?: boolean; dryRun?: boolean }): Promise<ApiResponse<T>> {
    return this.request<T>('PATCH', this.objectPath(object, true), {
      body: object,
      contentType: CONTENT_TYPES.applyJson,
      query: { fieldManager: options.fieldManager, force: options.force ? 'true' : undefined, dryRun: options.dryRun ? 'All' : undefined },
    });
  }

  async update<T extends AnyObject>(object: T): Promise<T> {
    return (await this.request<T>('PUT', this.objectPath(object, true), { body: object })).body;
  }

  async mergePatch<K extends Kind>(kind: K, name: string, patch: unknown): Promise<KindMap[K]> {
    return (await this.request<KindMap[K]>('PATCH', this.path(kind, name), { body: patch, contentType: CONTENT_TYPES.mergePatch })).body;
  }

  /** An RFC 6902 JSON patch: a list of operations. */
  async jsonPatch<K extends Kind>(kind: K, name: string, operations: unknown[]): Promise<KindMap[K]> {
    return (await this.request<KindMap[K]>('PATCH', this.path(kind, name), { body: operations, contentType: CONTENT_TYPES.jsonPatch })).body;
  }

  async create<T extends AnyObject>(object: T): Promise<T> {
    return (await this.request<T>('POST', this.objectPath(object, false), { body: object })).body;
  }

  /** Replace a sliver's whole loan list in one transaction (the `slivers/NAME/loans` subresource). */
  async replaceLoans(sliver: string, loans: readonly LoanEntry[]): Promise<SliverLoans> {
    const body: SliverLoans = { apiVersion: API_VERSION, kind: SLIVER_LOANS_KIND, metadata: { name: sliver }, spec: { loans: loans.map(([to, resource, amount]) => ({ to, resource, amount })) } };
    return (await this.request<SliverLoans>('PUT', this.path('Sliver', sliver, 'loans'), { body })).body;
  }

  /** 200 with a Status: gone; 202 with the object: finalizers hold it. */
  delete(kind: Kind, name: string): Promise<ApiResponse<AnyObject | StatusBody>> {
    return this.request('DELETE', this.path(kind, name));
  }

  /** Stream watch events of `kind` after `resourceVersion` (absent: from now). */
  watch(kind: Kind, options: Selectors & { resourceVersion?: string }, onEvent: (event: ApiWatchEvent) => void): ClientWatch {
    return this.stream(this.path(kind), { watch: '1', ...options }, async (response) => {
      let buffered = '';
      for await (const chunk of response) {
        buffered += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (!line.trim()) continue;
          const event = JSON.parse(line) as ApiWatchEvent | { type: 'ERROR'; object: StatusBody };
          if (event.type === 'ERROR') throw answerError({ code: event.object.code, body: event.object });
          onEvent(event);
        }
      }
    });
  }

  /** A long answer read by `consume` until it ends or `stop()`; a non-200 answer rejects `done` with its error. */
  private stream(path: string, query: Record<string, string | undefined>, consume: (response: IncomingMessage) => Promise<void>): ClientWatch {
    let res: IncomingMessage | undefined;
    let stopped = false;
    const done = this.send('GET', path, { query }).then(async (response) => {
      res = response;
      if (response.statusCode !== 200) throw answerError(await readAnswer(response));
      if (stopped) response.destroy();
      try {
        await consume(response);
      } catch (error) {
        if (!stopped) throw error;
      }
    });
    return {
      stop: () => {
        stopped = true;
        res?.destroy();
      },
      done,
    };
  }

  /** The sliver's init script output, to `onText` as it arrives; with `follow`, until the script exits or the sliver goes. */
  sliverLog(name: string, options: { follow?: boolean }, onText: (text: string) => void): ClientWatch {
    return this.stream(this.path('Sliver', name, 'log'), { follow: options.follow ? '1' : undefined }, async (response) => {
      response.setEncoding('utf8');
      for await (const text of response) onText(text as string);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
