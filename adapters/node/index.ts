// Picks the node adapter slvd runs with. Each adapter lives in its own folder behind NodeAdapter.
import { UsageError } from '../../resources/errors.js';
import { createLinuxAdapter } from './linux/index.js';
import type { BandwidthLimiter, NodeAdapter } from './contract.js';
import { createSimAdapter } from './sim/index.js';
import { createVServerAdapter } from './vserver/index.js';

export const NODE_ADAPTER_KINDS = ['sim', 'linux', 'vserver'] as const;
export type NodeAdapterKind = (typeof NODE_ADAPTER_KINDS)[number];

export interface NodeAdapterOptions {
  /** The daemon's data dir (the sim keeps its node state here). */
  dataDir: string;
  /** Filesystem root the OS adapters work under (tests use a prefix). */
  root?: string;
  /** linux: the cgroup holding one cgroup per sliver (default `slv` under the cpu hierarchy). */
  cgroupParent?: string;
  /** linux, vserver: network limits go here, by the account's uid. */
  bandwidth?: BandwidthLimiter;
  /** linux, vserver: uids for new accounts (default: useradd's, from <root>/etc/login.defs). */
  uidRange?: { min: number; max: number };
  /** linux, vserver: the forward_api_calls binary installed as delegates' login shell. */
  delegateShellSource?: string;
}

export async function createNodeAdapter(kind: NodeAdapterKind, options: NodeAdapterOptions): Promise<NodeAdapter> {
  switch (kind) {
    case 'sim':
      return createSimAdapter({ dataDir: options.dataDir });
    case 'linux':
      return createLinuxAdapter(options);
    case 'vserver':
      return createVServerAdapter(options);
    default:
      throw new UsageError(`unknown node adapter "${String(kind)}": expected one of ${NODE_ADAPTER_KINDS.join(', ')}`);
  }
}
