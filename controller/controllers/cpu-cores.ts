// Whole-core scheduling (today's node manager's core scheduler, `cpu_cores`): each sliver's
// spec.cpuCores is shared out over the node's CPUs (resources/cpu-cores.ts) and every sliver with
// an account is pinned to its part through the node adapter: the reserved cores, plus the shared
// ones for best effort; a sliver without cores runs on the shared CPUs. Status `cpus` shows the
// result. While anything is pinned it looks again every half minute, so processes a sliver started
// since (a login) are moved onto its CPUs. Nothing is pinned on a node where no sliver asks for cores.
import { allocateCores, formatCpuList } from '../../resources/cpu-cores.js';
import type { Sliver } from '../../schemas/types.js';
import { changedBy } from '../runtime/predicates.js';
import type { Reconciler } from '../runtime/types.js';
import type { SerializedNode } from './serialized-node.js';
import { writeStatus } from './status.js';

export const CPU_CORES_KEY = 'cpu-cores';
export const CPU_PIN_RESYNC_MS = 30_000;

/** What the share-out reads from a sliver: its request, whether it has an account, whether it is going. */
const inputsChanged = changedBy((object) => {
  const sliver = object as Sliver;
  return [sliver.spec.cpuCores, sliver.status?.xid, sliver.metadata.deletionTimestamp];
});

/** A sliver that asks for cores or was pinned: only such a one can give the share-out something to do. */
function involved(sliver: Sliver | undefined): boolean {
  return sliver !== undefined && ((sliver.spec.cpuCores?.count ?? 0) > 0 || sliver.status?.cpus !== undefined);
}

export function createCpuCoresController({ node }: { node: SerializedNode }): Reconciler {
  /**
   * False once a share-out found nobody asking and nobody pinned: then only a change to an
   * involved sliver can give it work, and the others' changes (every new account's xid) need not
   * queue a look at all 10,000 slivers each.
   */
  let active = true;
  return {
    name: 'cpu-cores',
    watches: ['Sliver'],
    keysFor: (event) => {
      if (!event.resync && event.type !== 'DELETED' && !inputsChanged(event)) return [];
      if (!active && !event.resync && !involved(event.object as Sliver) && !involved(event.oldObject as Sliver | undefined)) return [];
      return [CPU_CORES_KEY];
    },
    async reconcile(key, context) {
      if (key !== CPU_CORES_KEY) return;
      const slivers = context.cache.list('Sliver').filter((sliver) => sliver.metadata.deletionTimestamp === undefined && sliver.status?.xid !== undefined);
      const asking = slivers.filter((sliver) => (sliver.spec.cpuCores?.count ?? 0) > 0);
      // Nobody asks and nobody was pinned: leave the node's scheduling alone.
      active = !(asking.length === 0 && slivers.every((sliver) => sliver.status?.cpus === undefined));
      if (!active) return;
      const pinning = node.adapter.cpuPinning;
      if (!pinning) {
        for (const sliver of asking) context.events.warning(sliver, 'CpuCoresUnsupported', `cpu_cores ${sliver.spec.cpuCores!.count} not enforced: this node cannot pin slivers to CPUs`);
        return;
      }
      const allocation = allocateCores(
        await pinning.available(),
        slivers.map((sliver) => ({ name: sliver.metadata.name, cores: sliver.spec.cpuCores ?? { count: 0, bestEffort: false } })),
      );
      for (const sliver of slivers) {
        const { name } = sliver.metadata;
        const cpus = allocation.bySliver.get(name)!;
        const pinned = await node.withAccount(name, async (ops) => (await ops.get()) !== undefined && (await ops.pinCpus(cpus)));
        if (!pinned) continue;
        const list = formatCpuList(cpus);
        const short = allocation.shortOf.get(name);
        if (short !== undefined && sliver.status?.cpus !== list) {
          context.events.warning(sliver, 'CpuCoresShort', `cpu_cores asks for ${sliver.spec.cpuCores!.count} cores, ${short} left to reserve (one CPU always stays shared): runs on ${list}`);
        }
        await writeStatus<'Sliver'>(context.store, sliver, (status) => ({ ...status, cpus: list }));
      }
      return { requeueAfter: CPU_PIN_RESYNC_MS };
    },
  };
}
