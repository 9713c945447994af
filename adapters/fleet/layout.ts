// Where a fleet keeps things in etcd (docs/fleet.md "Key layout"), under one root prefix:
//   <root>namespaces/<node>/spec/<Kind>/<name>     the node's objects without status (the fleet API writes them)
//   <root>namespaces/<node>/status/<Kind>/<name>   their statuses (the node writes them)
//   <root>heartbeats/<node>                        the node's Heartbeat, under a lease the node keeps alive
import type { Etcd3, IOptions } from 'etcd3';
import { etcdClient, openEtcdStore, parseEtcdUrl, partKey, type EtcdStore, type ObjectPart } from '../store/etcd.js';
import type { Kind } from '../../schemas/types.js';

export interface FleetConnection {
  hosts: string[];
  /** Key prefix of the whole fleet, ending in `/` (default `/slv/`). */
  root: string;
  auth?: { username: string; password: string };
  credentials?: IOptions['credentials'];
}

/** `etcd://h1:2379,h2:2379[/root/]` as a FleetConnection. */
export function fleetConnection(url: string): FleetConnection {
  const { hosts, prefix } = parseEtcdUrl(url);
  return { hosts, root: prefix };
}

export function namespacePrefix(root: string, node: string): string {
  return `${root}namespaces/${node}/`;
}

/** Every key of one part (specs or statuses) of a node's namespace. */
export function namespacePartPrefix(root: string, node: string, part: ObjectPart): string {
  return `${namespacePrefix(root, node)}${part}/`;
}

export function namespaceKey(root: string, node: string, part: ObjectPart, kind: Kind, name: string): string {
  return partKey(namespacePrefix(root, node), part, kind, name);
}

export function heartbeatKey(root: string, node: string): string {
  return `${root}heartbeats/${node}`;
}

export function connect(fleet: FleetConnection): Etcd3 {
  return etcdClient(fleet);
}

/** One node's objects in the fleet, as a Store whose objects carry metadata.namespace = node. */
export function openNamespace(client: Etcd3, fleet: FleetConnection, node: string): Promise<EtcdStore> {
  return openEtcdStore({ hosts: fleet.hosts, client, prefix: namespacePrefix(fleet.root, node), namespace: node });
}

/** The nodes that have objects in the fleet: the namespaces under `<root>namespaces/`, read as keys only. */
export async function listNamespaces(client: Etcd3, fleet: FleetConnection): Promise<string[]> {
  const prefix = `${fleet.root}namespaces/`;
  const keys = await client.getAll().prefix(prefix).keys();
  return [...new Set(keys.map((key) => key.slice(prefix.length).split('/')[0]!).filter(Boolean))].sort();
}

export interface HeartbeatRecord {
  node: string;
  /** The key's value (resources/fleet.ts parseHeartbeat reads it). */
  value: string;
  /** Seconds since the node last renewed its lease (granted TTL minus remaining TTL). */
  secondsSinceRenewal: number;
}

/** Every heartbeat key that lives, with how long ago its lease was renewed. */
export async function readHeartbeats(client: Etcd3, fleet: FleetConnection): Promise<HeartbeatRecord[]> {
  const prefix = heartbeatKey(fleet.root, '');
  const { kvs } = await client.getAll().prefix(prefix).exec();
  return Promise.all(
    kvs.map(async (kv) => {
      const lease = await client.leaseClient.leaseTimeToLive({ ID: kv.lease });
      // A lease that expired between the two reads reports TTL -1: the node was renewing until about then.
      const remaining = Math.max(0, Number(lease.TTL));
      return { node: kv.key.toString().slice(prefix.length), value: kv.value.toString(), secondsSinceRenewal: Math.max(0, Number(lease.grantedTTL) - remaining) };
    }),
  );
}
