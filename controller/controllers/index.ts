// The sliver manager's controllers, set up on the runtime's Manager:
//   account         — accounts for Slivers and Delegates (create, replace, destroy, configure, run state)
//   rspec           — effective rspecs with loans, Loan decisions
//   expiry          — deletes expired slivers and their loans
//   cpu-cores       — whole-core scheduling: spec.cpuCores shared out, each sliver pinned to its CPUs
//   startup-stagger — with --startup, starts the slivers one by one after the first sync
//   node-config     — with a bandwidth limiter, PLC's node bandwidth cap (NodeConfig/plc)
//   orphan-sweep    — a periodic source that queues the account controller's orphan sweep
// and the node duties, when given a root to work in (docs/duties.md):
//   admin-accounts  — PLC's keys for root and site_admin into their authorized_keys
//   conf-files      — PLC's conf files fetched from its boot server and installed
//   reservation     — PLC's leases: with lease_or_idle only the lease holder runs
// and, with a bandwidth limiter:
//   bwmon           — daily per-sliver byte counts; past the threshold the rate is capped until the reset
// `enabled` (slvd --controllers) chooses among them all.
// They share one SerializedNode, so operations on one account are ordered across controllers, and
// the informer's Loan indexes (by lender, by target), so no controller scans every Loan.
import type { BandwidthLimiter, NodeAdapter } from '../../adapters/node/contract.js';
import type { Manager } from '../runtime/manager.js';
import { Periodic } from '../runtime/periodic.js';
import type { NodeFiles } from '../../adapters/node/posix/node-files.js';
import { createAdminAccountsController } from './admin-accounts.js';
import { createBandwidthMonitorController } from './bwmon.js';
import { createConfFilesController } from './conf-files.js';
import { createReservationController } from './reservation.js';
import { createAccountController, ORPHAN_SWEEP_KEY, ORPHAN_SWEEP_PERIOD_MS } from './account.js';
import { createCpuCoresController } from './cpu-cores.js';
import { createExpiryController } from './expiry.js';
import { createNodeConfigController } from './node-config.js';
import { createRSpecController } from './rspec.js';
import { SerializedNode } from './serialized-node.js';
import { createStaggerController } from './stagger.js';

export { ACCOUNT_FINALIZER, CONDITION_ACCOUNT_READY, CONDITION_READY, CONDITION_RESOURCES_APPLIED, ORPHAN_SWEEP_KEY } from './account.js';
export { STAGGER_KEY } from './stagger.js';

import type { ControllerName } from './names.js';

export { CONTROLLER_NAMES, type ControllerName } from './names.js';

/** What the node duties need: the node's files under a root, and PLC's boot server for conf files. */
export interface DutiesOptions {
  files: NodeFiles;
  /** A conf file's bytes by its source; absent when PLC is not a URL (conf files are then skipped). */
  fetchConfFile?: (source: string) => Promise<Buffer>;
  confFileDirs: readonly string[];
  commandTimeoutMs: number;
}

export interface ControllersOptions {
  node: NodeAdapter;
  /** slvd --startup: start the existing slivers, staggered, after the first sync. */
  startup: boolean;
  staggerSeconds: number;
  /** The orphan sweep destroys managed accounts slv has no record of, instead of reporting them. */
  adoptOrphans?: boolean;
  /** The node's bandwidth limiter, when limits are enforced: PLC's node cap goes to it. */
  bandwidth?: BandwidthLimiter;
  /** The node duties' needs; without, the duty controllers are not set up. */
  duties?: DutiesOptions;
  /** Controllers to run (slvd --controllers); default all. */
  enabled?: ReadonlySet<string>;
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
  const included = (name: ControllerName) => !options.without?.includes(name) && (options.enabled?.has(name) ?? true);
  const account = included('account') ? manager.add(createAccountController({ node, adoptOrphans: options.adoptOrphans ?? false })) : undefined;
  if (included('rspec')) manager.add(createRSpecController());
  if (included('expiry')) manager.add(createExpiryController());
  if (included('cpu-cores')) manager.add(createCpuCoresController({ node }));
  if (options.startup) manager.add(createStaggerController({ node, staggerSeconds: options.staggerSeconds }));
  if (options.bandwidth) manager.add(createNodeConfigController({ bandwidth: options.bandwidth }));
  if (options.bandwidth && included('bwmon')) manager.add(createBandwidthMonitorController({ bandwidth: options.bandwidth, registry: manager.registry }));
  if (included('reservation')) manager.add(createReservationController({ node, registry: manager.registry }));
  const duties = options.duties;
  if (duties && included('admin-accounts')) manager.add(createAdminAccountsController({ files: duties.files, registry: manager.registry }));
  if (duties?.fetchConfFile && included('conf-files')) {
    manager.add(
      createConfFilesController({ files: duties.files, fetch: duties.fetchConfFile, allowedDirs: duties.confFileDirs, commandTimeoutMs: duties.commandTimeoutMs, registry: manager.registry }),
    );
  }
  const sweepOrphans = () => account?.enqueue(ORPHAN_SWEEP_KEY);
  if (account) {
    void manager
      .addRunnable(
        new Periodic({
          name: 'orphan-sweep',
          clock: manager.clock,
          periodMs: ORPHAN_SWEEP_PERIOD_MS,
          runAtStart: false,
          run: sweepOrphans,
          onError: () => undefined, // queueing a key cannot fail
        }),
      )
      .catch(() => undefined); // a start failure is logged by the manager
  }
  return { sweepOrphans };
}
