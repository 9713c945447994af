// The fleet API's resources (docs/fleet.md "The fleet API"): every node's objects over etcd, under
// `/namespaces/NODE/...` as Kubernetes namespaces them; lists across all namespaces; and the
// read-only `nodes` made from the heartbeats. Nothing is kept but caches: each namespace is an etcd
// store opened on first use (one etcd watch each), so any number of fleet APIs may serve at once.
import type { Etcd3 } from 'etcd3';
import { BadRequestError, NotFoundError, SlvError, UnavailableError } from '../../../resources/errors.js';
import { fleetNode, isNodeName, parseHeartbeat, type FleetNode, type NodeSighting } from '../../../resources/fleet.js';
import { kubernetesTableOf, NODE_COLUMNS } from '../../../resources/columns.js';
import { kubernetesTimestamp } from '../../../resources/time.js';
import { API_VERSION, PLURALS, type AnyObject } from '../../../schemas/types.js';
import { listNamespaces, openNamespace, readHeartbeats, type FleetConnection } from '../../fleet/layout.js';
import type { EtcdStore } from '../../store/etcd.js';
import { filterOf, flagOf, includeObjectOf, matchesFilter, wantsTable } from '../routes.js';
import { present, ResourceApi, type RequestContext } from './handlers.js';
import { sendJson } from './http.js';

interface Namespace {
  store: EtcdStore;
  api: ResourceApi;
}

export interface FleetResourcesOptions {
  client: Etcd3;
  fleet: FleetConnection;
  maxBodyBytes: number;
  bookmarkIntervalMs?: number;
}

export class FleetResources {
  private readonly namespaces = new Map<string, Promise<Namespace>>();
  /** What this process has seen of each node: its last heartbeat and when it was last alive survive the lease. */
  private readonly sightings = new Map<string, NodeSighting>();

  constructor(private readonly options: FleetResourcesOptions) {}

  /** The namespace's store and API, opened once; a failed open is forgotten so the next request tries again. */
  private namespace(name: string): Promise<Namespace> {
    let opening = this.namespaces.get(name);
    if (!opening) {
      if (!isNodeName(name)) throw new NotFoundError('namespace', name);
      const { client, fleet, maxBodyBytes, bookmarkIntervalMs } = this.options;
      opening = this.etcd(`open namespace "${name}"`, () => openNamespace(client, fleet, name)).then((store) => ({ store, api: new ResourceApi(store, undefined, maxBodyBytes, bookmarkIntervalMs) }));
      opening.catch(() => this.namespaces.delete(name));
      this.namespaces.set(name, opening);
    }
    return opening;
  }

  async handle(context: RequestContext): Promise<void> {
    const { req, route, query } = context;
    if (route.namespace !== undefined) return (await this.namespace(route.namespace)).api.handle(context);
    const plural = PLURALS[route.kind];
    if (route.name !== undefined || req.method !== 'GET') {
      throw new BadRequestError(`${plural} are namespaced by node in the fleet: name the node, /apis/${API_VERSION}/namespaces/NODE/${plural}/... (slvctl -n NODE)`);
    }
    if (flagOf(query, 'watch'))
      throw new SlvError('MethodNotAllowed', `watching ${plural} across all nodes is not supported: watch one node's, /apis/${API_VERSION}/namespaces/NODE/${plural}?watch=1`);
    return this.listAll(context);
  }

  /** One kind across every namespace, each object with its metadata.namespace, ordered by namespace and name. */
  private async listAll(context: RequestContext): Promise<void> {
    const { route, query } = context;
    const filter = filterOf(query);
    const names = await this.etcd('list the namespaces', () => listNamespaces(this.options.client, this.options.fleet));
    const lists = await Promise.all(names.map(async (name) => (await this.namespace(name)).store.list(route.kind)));
    const items = lists.flatMap((list) => list.items).filter((object) => matchesFilter(filter, object));
    // etcd's revisions are cluster-wide: the newest any namespace has seen covers every list.
    const revision = Math.max(0, ...lists.map((list) => list.revision));
    sendJson(context.res, 200, present(context, items as AnyObject[], String(revision), true));
  }

  /** `nodes` and `nodes/NAME`: every node with objects or a heartbeat in the fleet, or one seen before. */
  async nodes({ req, res, query }: Pick<RequestContext, 'req' | 'res' | 'query'>, name: string | undefined): Promise<void> {
    if (req.method !== 'GET') throw new SlvError('MethodNotAllowed', `nodes are read-only: ${req.method ?? ''} is not supported`);
    const nodes = await this.readNodes();
    const chosen = name === undefined ? nodes : nodes.filter((node) => node.metadata.name === name);
    if (name !== undefined && !chosen.length) throw new NotFoundError('node', name);
    if (wantsTable(req.headers.accept)) {
      sendJson(res, 200, kubernetesTableOf(NODE_COLUMNS, chosen, { nowMs: Date.now(), includeObject: includeObjectOf(query) }));
    } else if (name !== undefined) sendJson(res, 200, chosen[0]);
    else sendJson(res, 200, { apiVersion: API_VERSION, kind: 'NodeList', metadata: {}, items: chosen });
  }

  private async readNodes(): Promise<FleetNode[]> {
    const { client, fleet } = this.options;
    const [heartbeats, namespaces] = await this.etcd('read the heartbeats', () => Promise.all([readHeartbeats(client, fleet), listNamespaces(client, fleet)]));
    const now = Date.now();
    const alive = new Set<string>();
    for (const record of heartbeats) {
      const heartbeat = parseHeartbeat(record.value);
      if (!heartbeat) continue;
      alive.add(record.node);
      this.sightings.set(record.node, { name: record.node, heartbeat, lastHeartbeat: heartbeat, lastSeen: kubernetesTimestamp(now - record.secondsSinceRenewal * 1000) });
    }
    for (const name of namespaces) if (!this.sightings.has(name)) this.sightings.set(name, { name });
    for (const [name, sighting] of this.sightings) {
      if (alive.has(name) || !sighting.heartbeat) continue;
      const { heartbeat: _expired, ...rest } = sighting;
      this.sightings.set(name, rest);
    }
    return [...this.sightings.values()].sort((a, b) => a.name.localeCompare(b.name)).map(fleetNode);
  }

  /** A call to etcd; its failure is a 503 naming etcd and what was being done. */
  private async etcd<T>(doing: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new UnavailableError(`the fleet's etcd at ${this.options.fleet.hosts.join(',')} did not answer; could not ${doing}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** End the watches of every namespace and close their stores (the etcd client is the caller's). */
  async close(): Promise<void> {
    const opened = await Promise.allSettled(this.namespaces.values());
    this.namespaces.clear();
    for (const result of opened) {
      if (result.status !== 'fulfilled') continue;
      result.value.api.endWatches();
      await result.value.store.close();
    }
  }
}
