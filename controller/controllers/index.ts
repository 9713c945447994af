// The sliver manager's controllers, ready for the runtime's Manager:
//   account         — accounts for Slivers and Delegates (create, replace, destroy, configure, run state)
//   rspec           — effective rspecs with loans, Loan decisions
//   expiry          — deletes expired slivers and their loans
//   startup-stagger — with --startup, starts the slivers one by one after the first sync
// They share one SerializedNode, so operations on one account are ordered across controllers, and
// one LoanIndex (kept by the rspec controller), so no controller scans every Loan.
import type { NodeAdapter } from '../../adapters/node/contract.js';
import type { Reconciler } from '../runtime/types.js';
import { createAccountController } from './account.js';
import { createExpiryController } from './expiry.js';
import { LoanIndex } from './loans.js';
import { createRSpecController } from './rspec.js';
import { SerializedNode } from './serialized-node.js';
import { createStaggerController } from './stagger.js';

export { ACCOUNT_FINALIZER, CONDITION_ACCOUNT_READY, CONDITION_READY, CONDITION_RESOURCES_APPLIED, ORPHAN_SWEEP_KEY } from './account.js';
export { STAGGER_KEY } from './stagger.js';

export interface ControllersOptions {
  node: NodeAdapter;
  /** slvd --startup: start the existing slivers, staggered, after the first sync. */
  startup: boolean;
  staggerSeconds: number;
  /** The orphan sweep destroys managed accounts slv has no record of, instead of reporting them. */
  adoptOrphans?: boolean;
}

export function createControllers(options: ControllersOptions): Reconciler[] {
  const node = new SerializedNode(options.node);
  const loans = new LoanIndex();
  const controllers = [createAccountController({ node, loans, adoptOrphans: options.adoptOrphans ?? false }), createRSpecController({ loans }), createExpiryController({ loans })];
  if (options.startup) controllers.push(createStaggerController({ node, staggerSeconds: options.staggerSeconds }));
  return controllers;
}
