// Fleet rules (docs/fleet.md), pure: how a node mirrors its namespace's specs from the fleet into
// its own store, when a status goes back, and what a node's heartbeat says. The fleet adapter
// (adapters/fleet/) watches etcd and applies these decisions.
//
// Decisions:
// - The fleet owns the spec, labels and annotations of the objects it labels managed-by=fleet in
//   the node's store; status, finalizers and other managers' data there stay the node's.
// - A name the node's store already holds under another owner (PLC, a local user) is a conflict:
//   left alone and reported, as PLC's conflicts are. The fleet never takes an object over.
// - An object the fleet no longer lists is deleted from the node's store only if the fleet owns it.
import { jsonEqual } from './equal.js';
import { API_VERSION, MANAGED_BY_LABEL, type AnyObject, type Kind } from '../schemas/types.js';

/** The field manager and managed-by label value of what the fleet writes into a node's store. */
export const FLEET_MANAGER = 'fleet';

/** The kinds a node mirrors (Events are each store's own). */
export const FLEET_KINDS: readonly Kind[] = ['Sliver', 'Delegate', 'Loan'];

export type FleetAction =
  | { type: 'create'; object: AnyObject }
  | { type: 'update'; object: AnyObject }
  | { type: 'delete'; kind: Kind; name: string; resourceVersion?: string }
  | { type: 'conflict'; object: AnyObject; owner: string };

export function isFleetOwned(object: AnyObject): boolean {
  return object.metadata.labels?.[MANAGED_BY_LABEL] === FLEET_MANAGER;
}

function fleetLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return { ...labels, [MANAGED_BY_LABEL]: FLEET_MANAGER };
}

/**
 * What the node's store must do so that `local` mirrors `desired` (the fleet's object, or undefined
 * when the fleet has none by that name); undefined when nothing.
 */
export function planFleetMirror(desired: AnyObject | undefined, local: AnyObject | undefined): FleetAction | undefined {
  if (!desired) {
    if (!local || !isFleetOwned(local)) return undefined;
    return { type: 'delete', kind: local.kind, name: local.metadata.name, ...(local.metadata.resourceVersion ? { resourceVersion: local.metadata.resourceVersion } : {}) };
  }
  const labels = fleetLabels(desired.metadata.labels);
  const annotations = desired.metadata.annotations;
  if (!local) {
    return {
      type: 'create',
      object: { apiVersion: API_VERSION, kind: desired.kind, metadata: { name: desired.metadata.name, labels, ...(annotations ? { annotations } : {}) }, spec: desired.spec } as AnyObject,
    };
  }
  if (!isFleetOwned(local)) return { type: 'conflict', object: local, owner: local.metadata.labels?.[MANAGED_BY_LABEL] ?? 'a local user' };
  if (jsonEqual(local.spec, desired.spec) && jsonEqual(local.metadata.labels, labels) && jsonEqual(local.metadata.annotations, annotations)) return undefined;
  const metadata = { ...local.metadata, labels };
  if (annotations) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { type: 'update', object: { ...local, metadata, spec: desired.spec } as AnyObject };
}

/** The status to write back to the fleet's object, or undefined when the fleet already has it. */
export function statusToPublish(fleetObject: AnyObject, local: AnyObject): AnyObject['status'] | undefined {
  if (local.status === undefined || jsonEqual(fleetObject.status, local.status)) return undefined;
  return local.status;
}

/** What a node says about itself under its lease. */
export interface Heartbeat {
  node: string;
  version: string;
  /** When the node last rewrote this (RFC 3339): on start and when what it says changes; liveness is the lease's. */
  time: string;
  slivers: { total: number; ready: number };
  /** Is the node's link to the fleet up (false while it runs from its local store alone)? */
  fleetConnected: boolean;
}

/** A node as the fleet API shows it: the read-only `nodes` resource, made from its heartbeat. */
export interface FleetNode {
  apiVersion: typeof API_VERSION;
  kind: 'Node';
  metadata: { name: string };
  status: {
    /** True while the node's heartbeat lease lives, False once it has expired or was revoked. */
    conditions: Array<{ type: 'Ready'; status: 'True' | 'False'; reason: string; message: string }>;
    /** When the node last proved alive (RFC 3339), if known. */
    lastSeen?: string;
    version?: string;
    slivers?: { total: number; ready: number };
    fleetConnected?: boolean;
  };
}

/** What the fleet knows of one node: its heartbeat (absent once its lease is gone) and the last time it was seen alive. */
export interface NodeSighting {
  name: string;
  heartbeat?: Heartbeat;
  /** The last heartbeat seen, kept after the lease went: what the node said last. */
  lastHeartbeat?: Heartbeat;
  lastSeen?: string;
}

export function fleetNode({ name, heartbeat, lastHeartbeat, lastSeen }: NodeSighting): FleetNode {
  const said = heartbeat ?? lastHeartbeat;
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name },
    status: {
      conditions: [
        heartbeat
          ? { type: 'Ready', status: 'True', reason: 'HeartbeatLeaseAlive', message: 'the node keeps its heartbeat lease alive' }
          : { type: 'Ready', status: 'False', reason: 'NoHeartbeat', message: 'the node has no heartbeat: its lease expired or it stopped' },
      ],
      ...(lastSeen ? { lastSeen } : {}),
      ...(said ? { version: said.version, slivers: said.slivers, fleetConnected: said.fleetConnected } : {}),
    },
  };
}

/** A heartbeat key's value, or undefined when it is not one (a node of another version, a stray key). */
export function parseHeartbeat(text: string): Heartbeat | undefined {
  try {
    const value = JSON.parse(text) as Partial<Heartbeat>;
    const counts = value.slivers;
    if (typeof value.node !== 'string' || typeof value.version !== 'string' || typeof counts?.total !== 'number' || typeof counts.ready !== 'number') return undefined;
    return value as Heartbeat;
  } catch {
    return undefined;
  }
}

/** A node's name is its namespace and part of etcd keys: lowercase letters, digits, "." and "-", as a DNS name. */
export function isNodeName(name: string): boolean {
  return /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(name);
}
