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
