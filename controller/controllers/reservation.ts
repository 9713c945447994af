// The reservation duty (the old node manager's reservation plugin): with PLC's reservation_policy
// lease_or_idle only the sliver holding the current lease runs and the others are stopped; with
// lease_or_shared everyone keeps running and the holder gets a CPU guarantee (status.leaseCpuMin,
// folded into its effective rspec by the rspec controller). Either way each sliver's status says whether it holds
// the lease and until when. The controller wakes exactly at the next lease boundary (requeueAfter,
// no polling) and decides from the clock alone, so a restart mid-lease lands in the same state.
// Lease bounds are rounded to PLC's lease granularity.
// Leaving lease_or_idle it gives back what it took: slivers it stopped start again; with policy none its status fields go.
import { Gauge, type Registry } from '../../adapters/support/prometheus.js';
import { DEFAULT_LEASE_GRANULARITY_SECONDS, LEASE_CPU_MIN, leaseStateAt } from '../../resources/reservations.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import type { Sliver } from '../../schemas/types.js';
import type { ReconcileContext, Reconciler } from '../runtime/types.js';
import { liveNodeConfig, nodeConfigKeys } from './node-config.js';
import type { SerializedNode } from './serialized-node.js';
import { wantsToRun } from './stagger.js';
import { writeStatus } from './status.js';

/** The one key: the policy and the leases decide for every sliver at once. */
export const RESERVATION_KEY = 'reservation';

export interface ReservationControllerOptions {
  node: SerializedNode;
  registry: Registry;
}

export function createReservationController({ node, registry }: ReservationControllerOptions): Reconciler {
  const leaseHeld = new Gauge({ name: 'slv_reservation_lease_held', help: '1 while a sliver of this node holds the current lease', registers: [registry] });

  /** Drive one sliver to `shouldRun` (never starting one whose account does not exist yet). */
  async function enforce(sliver: Sliver, shouldRun: boolean, context: ReconcileContext, why: string): Promise<void> {
    const name = sliver.metadata.name;
    await node.withAccount(name, async (ops) => {
      if (!(await ops.get())) return;
      const running = await ops.isRunning();
      if (running === shouldRun) return;
      if (shouldRun) await ops.start();
      else await ops.stop();
      await writeStatus<'Sliver'>(context.store, sliver, (status) => ({ ...status, running: shouldRun, ...(shouldRun ? { lastStartTime: kubernetesTimestamp(context.clock.now()) } : {}) }));
      context.events.normal(sliver, shouldRun ? 'Started' : 'Stopped', `${shouldRun ? 'started' : 'stopped'} by the reservation: ${why}`);
    });
  }

  return {
    name: 'reservation',
    watches: ['NodeConfig', 'Sliver'],
    keysFor: (event) => (event.object.kind === 'Sliver' || nodeConfigKeys(event).length > 0 ? [RESERVATION_KEY] : []),
    async reconcile(key, context) {
      if (key !== RESERVATION_KEY) return;
      const config = liveNodeConfig(context.cache);
      // No PLC answer: the last policy's effect stays until PLC says otherwise.
      if (!config) return;
      const { reservationPolicy: policy, leases, leaseGranularity } = config.spec;
      const nowMs = context.clock.now();
      const state = leaseStateAt(leases, Math.floor(nowMs / 1000), leaseGranularity ?? DEFAULT_LEASE_GRANULARITY_SECONDS);
      const slivers = context.cache.list('Sliver').filter((sliver) => sliver.metadata.deletionTimestamp === undefined);
      leaseHeld.set(policy !== 'none' && slivers.some((sliver) => sliver.metadata.name === state.holder) ? 1 : 0);
      for (const sliver of slivers) {
        if (policy === 'none') {
          if (sliver.status?.leaseHeld === undefined) continue;
          if (wantsToRun(sliver)) await enforce(sliver, true, context, 'the node has no reservation policy any more');
          await writeStatus<'Sliver'>(context.store, sliver, ({ leaseHeld: _held, leaseUntil: _until, leaseCpuMin: _cpu, ...status }) => status);
          continue;
        }
        const holds = sliver.metadata.name === state.holder;
        if (policy === 'lease_or_idle') {
          const until = state.until === undefined ? '' : ` until ${kubernetesTimestamp(state.until * 1000)}`;
          await enforce(
            sliver,
            holds && wantsToRun(sliver),
            context,
            holds ? `it holds the lease${until}` : state.holder === undefined ? 'no lease now (lease_or_idle)' : `${state.holder} holds the lease${until}`,
          );
        } else if (sliver.status?.leaseHeld !== undefined && wantsToRun(sliver)) {
          // lease_or_shared after lease_or_idle: what that policy stopped runs again.
          await enforce(sliver, true, context, 'the node is shared (lease_or_shared)');
        }
        const guaranteed = policy === 'lease_or_shared' && holds;
        await writeStatus<'Sliver'>(context.store, sliver, ({ leaseHeld: _held, leaseUntil: _until, leaseCpuMin: _cpu, ...status }) => ({
          ...status,
          leaseHeld: holds,
          ...(holds && state.until !== undefined ? { leaseUntil: kubernetesTimestamp(state.until * 1000) } : {}),
          ...(guaranteed ? { leaseCpuMin: LEASE_CPU_MIN } : {}),
        }));
      }
      if (policy === 'none' || state.nextBoundary === undefined) return;
      return { requeueAfter: state.nextBoundary * 1000 - nowMs };
    },
  };
}
