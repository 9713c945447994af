// The node-config controller: what today's PLC says about the node itself (NodeConfig/plc) applied
// to the node. For now the bandwidth cap: the primary interface's bwlimit becomes the limiter's
// node cap; without a NodeConfig or a bwlimit, the configured cap applies. The special accounts,
// conf files and reservations the NodeConfig also holds are for the controllers of node duties.
import type { BandwidthLimiter } from '../../adapters/node/contract.js';
import { NODE_CONFIG_NAME, type NodeConfig } from '../../schemas/types.js';
import { anyOf, generationChanged, isResync } from '../runtime/predicates.js';
import type { Cache, ChangeEvent, ReconcileContext, ReconcileResult, Reconciler } from '../runtime/types.js';

const specChangedOrResync = anyOf(generationChanged, isResync);

/**
 * keysFor of the controllers that apply NodeConfig/plc: that object's spec changes (and resyncs),
 * under its name; its status, which the duties write, changes nothing they do.
 */
export function nodeConfigKeys(event: ChangeEvent): string[] {
  return event.object.kind === 'NodeConfig' && event.object.metadata.name === NODE_CONFIG_NAME && specChangedOrResync(event) ? [NODE_CONFIG_NAME] : [];
}

/** NodeConfig/plc as it stands; undefined when absent or being deleted. */
export function liveNodeConfig(cache: Cache): NodeConfig | undefined {
  const config = cache.get('NodeConfig', NODE_CONFIG_NAME);
  return config?.metadata.deletionTimestamp === undefined ? config : undefined;
}

/** A node duty applying NodeConfig/plc while it stands; without it (no PLC answer) the node stays as it is. */
export function nodeConfigDuty(name: string, apply: (config: NodeConfig, context: ReconcileContext) => Promise<ReconcileResult | void>): Reconciler {
  return {
    name,
    watches: ['NodeConfig'],
    keysFor: nodeConfigKeys,
    async reconcile(_key, context) {
      const config = liveNodeConfig(context.cache);
      return config ? apply(config, context) : undefined;
    },
  };
}

export interface NodeConfigControllerOptions {
  bandwidth: BandwidthLimiter;
}

export function createNodeConfigController({ bandwidth }: NodeConfigControllerOptions): Reconciler {
  return {
    name: 'node-config',
    watches: ['NodeConfig'],
    keysFor: nodeConfigKeys,
    async reconcile(_name, context) {
      await bandwidth.setNodeCap(liveNodeConfig(context.cache)?.spec.bandwidthCap);
    },
  };
}
