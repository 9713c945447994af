// The sliver manager's controllers, set up on the runtime's Manager:
//   account         — accounts for Slivers and Delegates (create, replace, destroy, configure, run state)
//   rspec           — effective rspecs with loans, Loan decisions
//   expiry          — deletes expired slivers and their loans
//   startup-stagger — with --startup, starts the slivers one by one after the first sync
//   node-config     — with a bandwidth limiter, PLC's node bandwidth cap (NodeConfig/plc)
//   orphan-sweep    — a periodic source that queues the account controller's orphan sweep
// They share one SerializedNode, so operations on one account are ordered across controllers, and
// the informer's Loan indexes (by lender, by target), so no controller scans every Loan.
import type { BandwidthLimiter, NodeAdapter } from '../../adapters/node/contract.js';
import type { Manager } from '../runtime/manager.js';
import { Periodic } from '../runtime/periodic.js';
import { createAccountController, ORPHAN_SWEEP_KEY, ORPHAN_SWEEP_PERIOD_MS } from './account.js';
import { createExpiryController } from './expiry.js';
import { createNodeConfigController } from './node-config.js';
import { createRSpecController } from './rspec.js';
import { SerializedNode } from './serialized-node.js';
import { createStaggerController } from './stagger.js';

export { ACCOUNT_FINALIZER, CONDITION_ACCOUNT_READY, CONDITION_READY, CONDITION_RESOURCES_APPLIED, ORPHAN_SWEEP_KEY } from './account.js';
export { STAGGER_KEY } from './stagger.js';

export type ControllerName = 'account' | 'rspec' | 'expiry';

export interface ControllersOptions {
  node: NodeAdapter;
  /** slvd --startup: start the existing slivers, staggered, after the first sync. */
  startup: boolean;
  staggerSeconds: number;
  /** The orphan sweep destroys managed accounts slv has no record of, instead of reporting them. */
  adoptOrphans?: boolean;
  /** The node's bandwidth limiter, when limits are enforced: PLC's node cap goes to it. */
  bandwidth?: BandwidthLimiter;
  /** Controllers to leave out (tests that prove one works without another). */
  without?: readonly ControllerName[];
}

/** What the daemon can ask of the controllers beyond store changes. */
export interface Controllers {
  /** Queue the orphan sweep now (slvd at start: an empty store sends no change). */
  sweepOrphans(): void;
}

/** Register the controllers (with the indexes they read) and their periodic sources on `manager`, before it starts. */
export function setupControllers(manager: Manager, options: ControllersOptions): Controllers {
  const node = new SerializedNode(options.node);
  const included = (name: ControllerName) => !options.without?.includes(name);
  const account = included('account') ? manager.add(createAccountController({ node, adoptOrphans: options.adoptOrphans ?? false })) : undefined;
  if (included('rspec')) manager.add(createRSpecController());
  if (included('expiry')) manager.add(createExpiryController());
  if (options.startup) manager.add(createStaggerController({ node, staggerSeconds: options.staggerSeconds }));
  if (options.bandwidth) manager.add(createNodeConfigController({ bandwidth: options.bandwidth }));
  const sweepOrphans = () => account?.enqueue(ORPHAN_SWEEP_KEY);
  if (account) {
    void manager.addRunnable(
      new Periodic({
        name: 'orphan-sweep',
        clock: manager.clock,
        periodMs: ORPHAN_SWEEP_PERIOD_MS,
        runAtStart: false,
        run: sweepOrphans,
        onError: () => undefined, // queueing a key cannot fail
      }),
    ).catch(() => undefined); // a start failure is logged by the manager
  }
  return { sweepOrphans };
}
