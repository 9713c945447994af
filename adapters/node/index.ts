// Picks the node adapter slvd runs with. Each adapter lives in its own folder behind NodeAdapter.
import { UsageError } from '../../resources/errors.js';
import { createLinuxAdapter } from './linux/index.js';
import { createLxcAdapter } from './lxc/index.js';
import type { BandwidthLimiter, NodeAdapter } from './contract.js';
import { createSimAdapter } from './sim/index.js';
import { createVServerAdapter } from './vserver/index.js';
import { NODE_ADAPTER_KINDS, type NodeAdapterKind } from './kinds.js';

export { NODE_ADAPTER_KINDS, type NodeAdapterKind };

export interface NodeAdapterOptions {
  /** The daemon's data dir (the sim keeps its node state here). */
  dataDir: string;
  /** Filesystem root the OS adapters work under (tests use a prefix). */
  root?: string;
  /** linux, lxc: the cgroup holding one cgroup per sliver (default `slv` under the cpu hierarchy). */
  cgroupParent?: string;
  /** linux, vserver, lxc: network limits go here, by the account's uid (lxc: and its container's ids). */
  bandwidth?: BandwidthLimiter;
  /** linux, vserver, lxc: uids for new accounts (default: useradd's, from <root>/etc/login.defs). */
  uidRange?: { min: number; max: number };
  /** linux, vserver, lxc: the forward_api_calls binary installed as delegates' login shell. */
  delegateShellSource?: string;
  /** lxc: containers, images, id base, per-container memory (docs/adapters.md). */
  lxc?: LxcSettings;
}

export interface LxcSettings {
  lxcPath?: string;
  imageDir?: string;
  idBase?: number;
  memoryLimit?: number;
  /** The setuid login helper to install (default native/lxc-vsh). */
  sliverShell?: string;
}

export async function createNodeAdapter(kind: NodeAdapterKind, options: NodeAdapterOptions): Promise<NodeAdapter> {
  switch (kind) {
    case 'sim':
      // Nothing in slvd reads the call history (tests read their own adapter's): at 10,000 slivers
      // it held 60,000 records after a restart, some 4 MB of the heap.
      return createSimAdapter({ dataDir: options.dataDir, historyLimit: 0 });
    case 'linux':
      return createLinuxAdapter(options);
    case 'vserver':
      return createVServerAdapter(options);
    case 'lxc': {
      const { lxc, ...rest } = options;
      const { sliverShell, ...settings } = lxc ?? {};
      return createLxcAdapter({ ...rest, ...settings, ...(sliverShell ? { sliverShellSource: sliverShell } : {}) });
    }
    default:
      throw new UsageError(`unknown node adapter "${String(kind)}": expected one of ${NODE_ADAPTER_KINDS.join(', ')}`);
  }
}
