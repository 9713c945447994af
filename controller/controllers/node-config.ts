// The node-config controller: what today's PLC says about the node itself (NodeConfig/plc) applied
// to the node. For now the bandwidth cap: the primary interface's bwlimit becomes the limiter's
// node cap; without a NodeConfig or a bwlimit, the configured cap applies. The special accounts,
// conf files and reservations the NodeConfig also holds are for the controllers of node duties.
import type { BandwidthLimiter } from '../../adapters/node/contract.js';
import { NODE_CONFIG_NAME } from '../../schemas/types.js';
import type { Reconciler } from '../runtime/types.js';

export interface NodeConfigControllerOptions {
  bandwidth: BandwidthLimiter;
}

export function createNodeConfigController({ bandwidth }: NodeConfigControllerOptions): Reconciler {
  return {
    name: 'node-config',
    watches: ['NodeConfig'],
    keysFor: (event) => (event.object.metadata.name === NODE_CONFIG_NAME ? [NODE_CONFIG_NAME] : []),
    async reconcile(name, context) {
      const config = context.cache.get('NodeConfig', name);
      const cap = config?.metadata.deletionTimestamp === undefined ? config?.spec.bandwidthCap : undefined;
      await bandwidth.setNodeCap(cap);
    },
  };
}
