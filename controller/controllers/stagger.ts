// The startup-stagger controller (docs/behaviour.md §5, slvd --startup): after the first sync, start every
// enabled sliver in name order, `staggerSeconds` apart (0, s, 2s, …), so a rebooting node does not
// start everything at once. The plan is fixed at the first reconcile (the cache is synced by then)
// and walked with requeueAfter. A sliver that account creation already started in this run is
// skipped, and so is one without an account yet (creating it will start it).
import { fullRSpec } from '../../resources/rspec.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import type { Sliver } from '../../schemas/types.js';
import type { ReconcileContext, Reconciler } from '../runtime/types.js';
import type { SerializedNode } from './serialized-node.js';
import { writeStatus } from './status.js';

/** The one key of this controller. */
export const STAGGER_KEY = 'startup';

export interface StaggerControllerOptions {
  node: SerializedNode;
  staggerSeconds: number;
}

function wantsToRun(sliver: Sliver | undefined): sliver is Sliver {
  if (!sliver || sliver.metadata.deletionTimestamp !== undefined) return false;
  const { spec } = sliver;
  if (spec.instantiation === 'nm-controller') return false;
  if (spec.instantiation === 'delegated' && spec.run?.instantiated !== true) return false;
  if ((spec.run?.state ?? 'Running') !== 'Running') return false;
  return (sliver.status?.effectiveRSpec ?? fullRSpec(spec.rspec)).enabled !== 0;
}

export function createStaggerController({ node, staggerSeconds }: StaggerControllerOptions): Reconciler {
  let plan: { startedAt: number; names: string[] } | undefined;
  let next = 0;
  let finished = false;

  async function startOne(name: string, position: string, context: ReconcileContext): Promise<void> {
    await node.withAccount(name, async (ops) => {
      const sliver = context.cache.get('Sliver', name);
      if (!wantsToRun(sliver) || ops.startedThisRun() || !(await ops.get())) return;
      await ops.start();
      const now = kubernetesTimestamp(context.clock.now());
      await writeStatus<'Sliver'>(context.store, sliver, (status) => ({ ...status, running: true, lastStartTime: now, staggerStarted: true }));
      context.events.normal(sliver, 'Started', `started by the startup stagger (${position})`);
    });
  }

  return {
    name: 'startup-stagger',
    watches: ['Sliver'],
    keysFor: () => (finished ? [] : [STAGGER_KEY]),
    async reconcile(key, context) {
      if (key !== STAGGER_KEY || finished) return;
      plan ??= {
        startedAt: context.clock.now(),
        names: context.cache
          .list('Sliver')
          .filter(wantsToRun)
          .map((s) => s.metadata.name)
          .sort(),
      };
      while (next < plan.names.length) {
        const due = plan.startedAt + next * staggerSeconds * 1000;
        const now = context.clock.now();
        if (now < due) return { requeueAfter: due - now };
        const name = plan.names[next] as string;
        try {
          await startOne(name, `${next + 1} of ${plan.names.length}`, context);
        } catch (error) {
          // One sliver that cannot start must not hold back the others.
          const sliver = context.cache.get('Sliver', name);
          if (sliver) context.events.warning(sliver, 'StartFailed', `the startup stagger could not start it: ${error instanceof Error ? error.message : String(error)}`);
        }
        next += 1;
      }
      finished = true;
      context.log.info({ planned: plan.names.length }, 'startup stagger finished');
    },
  };
}
