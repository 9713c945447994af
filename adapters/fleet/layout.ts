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
