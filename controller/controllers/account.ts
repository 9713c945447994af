// The account controller (docs/behaviour.md §5): every Sliver and Delegate is an account on the node.
// Key = account name, so a Sliver and a Delegate of one name share one key and one account lock.
// It creates, replaces (type change, ReCreate) and destroys accounts, installs keys and the init
// script when they change, applies the effective rspec the rspec controller computed, enforces the
// desired run state, and reports it all as conditions.
import type { AccountClass, AccountInfo, InitOutcome } from '../../adapters/node/contract.js';
import { jsonEqual } from '../../resources/equal.js';
import { fullRSpec } from '../../resources/rspec.js';
import { InvalidError, MissingImageError, TerminalError } from '../../resources/errors.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import { ACCOUNT_FINALIZER, API_VERSION, type AnyObject, type Delegate, type DelegateStatus, type InitScriptStatus, type RSpec, type Sliver, type SliverStatus } from '../../schemas/types.js';
import { anyOf, changedBy, fieldChanged, generationChanged, isResync } from '../runtime/predicates.js';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../runtime/types.js';
import { deleteLoansOf, LOAN_INDEXES } from './loans.js';
import type { AccountOps, SerializedNode } from './serialized-node.js';
import { setConditions, withFields, writeMetadata, writeStatus, type ConditionInput } from './status.js';

export { ACCOUNT_FINALIZER };

/**
 * The key of the orphan sweep: it looks at every managed account that no Sliver or Delegate names.
 * slv's record of the accounts it created is their objects: the account finalizer keeps an object
 * in the store from before its account is created until after it is destroyed. So an account no
 * object names is one slv has no record of creating (left by another manager, or by an operator
 * who removed the finalizer): it is reported in a Warning Event and kept, unless adoptOrphans
 * (slvd --adopt-orphans) says to destroy it. Not an account name (those cannot contain `*`).
 * Queued with the first change the controller sees and by a periodic source every
 * ORPHAN_SWEEP_PERIOD_MS (controllers/index.ts); slvd also queues it at start, since an empty
 * store sends no change.
 */
export const ORPHAN_SWEEP_KEY = '*orphan-sweep';
export const ORPHAN_SWEEP_PERIOD_MS = 10 * 60_000;

export const CONDITION_ACCOUNT_READY = 'AccountReady';
export const CONDITION_RESOURCES_APPLIED = 'ResourcesApplied';
export const CONDITION_READY = 'Ready';
/** The init script's outcome: True while it runs or after it exited 0, False (InitFailed) after it failed. */
export const CONDITION_INIT_SCRIPT = 'InitScript';
/** Event and condition reason: the init script exited non-zero (or could not be executed). */
export const INIT_FAILED = 'InitFailed';
/** A running init script is looked at again after as long as it has run so far, within these bounds. */
const INIT_POLL_MIN_MS = 1000;
const INIT_POLL_MAX_MS = 5 * 60_000;
/** ResourcesApplied=False reason: some rspec keys cannot be enforced on this node (not a failure to retry). */
export const RESOURCES_UNSUPPORTED = 'Unsupported';
/** Warning Event reason: some of a running sliver's limits cannot be enforced on this node. */
export const LIMITS_NOT_ENFORCED = 'LimitsNotEnforced';
/** Event reason: a managed account that no object names was found and kept. */
export const UNRECORDED_ACCOUNT = 'UnrecordedAccount';

type AccountObject = Sliver | Delegate;

/**
 * What this run last installed on an account; empty after a restart, so everything is reconfigured
 * once. Keys and limits are the cached objects' own arrays and objects (the informer replaces an
 * object, never changes it), not copies: at 10,000 slivers the copies were ~2 MB of live heap.
 * Changed in place (memoOf), under the account's lock: a copy with a field added (`{ ...memo, keys }`)
 * takes V8's slow path, ~1 µs, three of them per sliver at a restart.
 */
interface Installed {
  keys?: string[];
  initscript?: string;
  limits?: RSpec;
  /** What applying `limits` achieved, as the ResourcesApplied condition. */
  limitsApplied?: ConditionInput;
}

/** The account a Sliver needs: nm-controller slivers are handled like delegates (docs/behaviour.md §1). */
function accountClassOf(object: AccountObject): AccountClass {
  return object.kind === 'Sliver' && object.spec.instantiation !== 'nm-controller' ? 'sliver' : 'delegate';
}

function isDeleting(object: AccountObject | undefined): boolean {
  return object?.metadata.deletionTimestamp !== undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface AccountControllerOptions {
  node: SerializedNode;
  /** Destroy managed accounts no object names, instead of reporting them (slvd --adopt-orphans). */
  adoptOrphans: boolean;
}

/** What an Event about an account no object names is filed under: the kind of its class, its name. */
function unrecordedAccount(account: AccountInfo): AnyObject {
  // The event recorder reads only kind and name; there is no object to give it.
  return { apiVersion: API_VERSION, kind: account.class === 'sliver' ? 'Sliver' : 'Delegate', metadata: { name: account.name } } as Pick<AnyObject, 'apiVersion' | 'kind' | 'metadata'> as AnyObject;
}

/**
 * The changes this controller acts on: a resync, the spec (generation), a deletion starting, the
 * effective rspec from the rspec controller, and a start by the startup stagger (a new
 * lastStartTime with staggerStarted; this controller's own starts do not set staggerStarted).
 * Other writes (its own status, the finalizer it adds) need no reconcile; a resync restores a
 * removed finalizer.
 */
const needsReconcile = anyOf(
  isResync,
  generationChanged,
  fieldChanged('metadata.deletionTimestamp'),
  fieldChanged('status.effectiveRSpec'),
  changedBy((object) => {
    const status = object.kind === 'Sliver' ? (object as Sliver).status : undefined;
    return status?.staggerStarted ? status.lastStartTime : undefined;
  }),
);

export function createAccountController({ node, adoptOrphans }: AccountControllerOptions): Reconciler {
  const installed = new Map<string, Installed>();

  /** The memo of `name`'s account, made on first use. */
  function memoOf(name: string): Installed {
    let memo = installed.get(name);
    if (!memo) installed.set(name, (memo = {}));
    return memo;
  }

  /** Remove the account and forget what was installed on it. */
  async function destroy(ops: AccountOps, name: string): Promise<void> {
    await ops.destroy();
    installed.delete(name);
  }

  /** A new account has no keys and no init script yet, so empty ones need no install call. */
  async function create(ops: AccountOps, name: string, accountClass: AccountClass, type?: string, vref?: string): Promise<AccountInfo> {
    const account = await ops.create(accountClass, type, vref);
    installed.set(name, { keys: [], initscript: '' });
    return account;
  }

  /** A deleted object: its account goes (unless a live object of the other kind owns the name), then the finalizer. */
  async function finalize(object: AccountObject, owner: AccountObject | undefined, ops: AccountOps, context: ReconcileContext): Promise<void> {
    const { name } = object.metadata;
    if (!owner && (await ops.get())) {
      await destroy(ops, name);
      context.events.normal(object, 'AccountDestroyed', `account ${name} destroyed because the ${object.kind.toLowerCase()} was deleted`);
    }
    if (object.kind === 'Sliver') await deleteLoansOf(name, context);
    await writeMetadata(context.store, object, (metadata) => ({ ...metadata, finalizers: (metadata.finalizers ?? []).filter((f) => f !== ACCOUNT_FINALIZER) }));
  }

  /** The object with the finalizer in place, or undefined if it vanished meanwhile. */
  function ensureFinalizer(object: AccountObject, context: ReconcileContext): Promise<AccountObject | undefined> {
    if (object.metadata.finalizers?.includes(ACCOUNT_FINALIZER)) return Promise.resolve(object);
    return writeMetadata(context.store, object, (metadata) => ({
      ...metadata,
      finalizers: metadata.finalizers?.includes(ACCOUNT_FINALIZER) ? metadata.finalizers : [...(metadata.finalizers ?? []), ACCOUNT_FINALIZER],
    }));
  }

  async function reconcileDelegateClass(object: AccountObject, ops: AccountOps, context: ReconcileContext): Promise<void> {
    const { name } = object.metadata;
    let account = await ops.get();
    if (account && account.class !== 'delegate') {
      await destroy(ops, name);
      context.events.normal(object, 'AccountReplaced', `account ${name} was a ${account.class} account; replaced by a delegate account`);
      account = undefined;
    }
    // Creation shows in status (AccountReady and its transition time), not as an Event: the event
    // recorder writes each Event on its own, which at 10,000 new slivers would dwarf the work itself.
    account ??= await create(ops, name, 'delegate');
    await installKeys(name, object.spec.keys, ops);
    const accountReady: ConditionInput = { type: CONDITION_ACCOUNT_READY, status: 'True', reason: 'AccountExists', message: `delegate account ${name} has uid ${account.uid}` };
    const ready: ConditionInput = { type: CONDITION_READY, status: 'True', reason: 'Ready', message: 'the account exists and its keys are installed' };
    await writeAccountConditions(object, [accountReady, ready], context, { uid: account.uid, remove: [CONDITION_RESOURCES_APPLIED] });
  }

  async function installKeys(name: string, keys: string[], ops: AccountOps): Promise<void> {
    const known = installed.get(name)?.keys;
    if (known && jsonEqual(known, keys)) return;
    await ops.setKeys(keys);
    memoOf(name).keys = keys;
  }

  async function reconcileSliver(sliver: Sliver, ops: AccountOps, context: ReconcileContext): Promise<ReconcileResult | void> {
    const { name } = sliver.metadata;
    const { spec } = sliver;
    const status = sliver.status ?? {};
    const now = kubernetesTimestamp(context.clock.now());
    const generation = sliver.metadata.generation;
    let account: AccountInfo | undefined = await ops.get();

    const recreate = spec.run?.recreate ?? 0;
    const recreateRequested = recreate > (status.recreated ?? 0);
    // An explicit Start (spec.run.start bumped) is consumed whether or not it could start anything.
    const startRequest = spec.run?.start ?? 0;
    const startRequested = startRequest > (status.startsHandled ?? 0);
    /** The status fields that record the requests handled now. */
    const setHandled = (fields: Partial<SliverStatus>): void => {
      if (recreateRequested) fields.recreated = recreate;
      if (startRequested) fields.startsHandled = startRequest;
    };
    const typeChanged = account !== undefined && (account.class !== 'sliver' || (account.type !== undefined && account.type !== spec.type));
    if (account && recreateRequested) {
      await ops.stop(); // ReCreate is stop, destroy, create, start
      await destroy(ops, name);
      context.events.normal(sliver, 'Recreating', `account ${name} destroyed for ReCreate`);
      account = undefined;
    } else if (account && typeChanged) {
      await destroy(ops, name); // destroyAccount stops everything of the account first
      context.events.normal(sliver, 'AccountReplaced', `account ${name} (${account.class} ${account.type ?? 'of unknown type'}) replaced for type ${spec.type}`);
      account = undefined;
    }

    const instantiated = spec.instantiation !== 'delegated' || spec.run?.instantiated === true;
    if (!instantiated) {
      if (account) {
        await destroy(ops, name);
        context.events.normal(sliver, 'AccountDestroyed', `account ${name} destroyed: the delegated sliver was destroyed by API Destroy`);
      }
      const waiting: ConditionInput = {
        type: CONDITION_ACCOUNT_READY,
        status: 'False',
        reason: 'NotInstantiated',
        message: 'a delegated sliver gets its account only on API Create',
      };
      await writeStatus<'Sliver'>(context.store, sliver, (s) => {
        const fields: Partial<SliverStatus> = { xid: undefined, running: undefined, appliedRSpec: undefined };
        setHandled(fields);
        fields.observedGeneration = generation;
        fields.conditions = setConditions(s.conditions, [waiting, { ...waiting, type: CONDITION_READY }], now, generation, [CONDITION_RESOURCES_APPLIED]);
        return withFields(s, fields);
      });
      return;
    }

    let created = false;
    if (!account) {
      account = await create(ops, name, 'sliver', spec.type, spec.vref); // shows in status, like a delegate's creation
      created = true;
    }
    await installKeys(name, spec.keys, ops);
    if (installed.get(name)?.initscript !== spec.initscript) {
      await ops.setInitscript(spec.initscript);
      memoOf(name).initscript = spec.initscript;
    }

    // Limits: the effective rspec once the rspec controller has computed it.
    const effective = status.effectiveRSpec;
    let resources: ConditionInput = {
      type: CONDITION_RESOURCES_APPLIED,
      status: 'Unknown',
      reason: 'WaitingForEffectiveRSpec',
      message: 'the rspec controller has not computed the effective rspec yet',
    };
    if (effective) {
      const current = installed.get(name);
      if (current?.limits && current.limitsApplied && jsonEqual(current.limits, effective)) {
        resources = current.limitsApplied;
      } else {
        const report = await ops.applyLimits(effective);
        const unenforced = unsupportedText(report.unsupported);
        resources = unenforced
          ? { type: CONDITION_RESOURCES_APPLIED, status: 'False', reason: RESOURCES_UNSUPPORTED, message: `applied what this node can enforce; it cannot enforce: ${unenforced}` }
          : { type: CONDITION_RESOURCES_APPLIED, status: 'True', reason: 'Applied', message: 'the effective rspec is enforced' };
        const memo = memoOf(name);
        memo.limits = effective;
        memo.limitsApplied = resources;
        // Said once, when it starts to be so (or what cannot be enforced changes), not at every apply or restart.
        const before = status.conditions?.find((c) => c.type === CONDITION_RESOURCES_APPLIED);
        if (unenforced && (before?.reason !== RESOURCES_UNSUPPORTED || before.message !== resources.message)) {
          context.events.warning(sliver, LIMITS_NOT_ENFORCED, `the sliver runs, but this node cannot enforce: ${unenforced}`);
        }
      }
    }

    // Run state: enforce a change of the desired state once; never restart a sliver just because
    // the daemon restarted (the startup stagger does that with --startup).
    const enabled = (effective ?? fullRSpec(spec.rspec)).enabled !== 0;
    const desired = spec.run?.state ?? 'Running';
    const shouldRun = enabled && desired === 'Running';
    let running = await ops.isRunning();
    let started = false;
    if (!shouldRun && running) {
      await ops.stop();
      running = false;
      context.events.normal(sliver, 'Stopped', enabled ? 'stopped: spec.run.state is Stopped' : 'stopped: the sliver is disabled (rspec enabled=0)');
    } else if (shouldRun && !running && (created || startRequested || status.runState !== desired)) {
      await ops.start();
      running = true;
      started = true;
      if (!created) context.events.normal(sliver, 'Started', startRequested ? 'started: Start requested' : 'started: spec.run.state is Running');
    }

    // The init script's outcome: looked at after a start (this controller's or the stagger's), while
    // it is still running, and when a running sliver has none recorded (slvd restarted).
    const lastInit = status.initScript;
    const watchInit = started || (running && (lastInit === undefined || lastInit.exitCode === undefined || (status.lastStartTime ?? '') > lastInit.startedAt));
    const outcome = watchInit ? await ops.initOutcome() : undefined;
    const initScript = outcome && initScriptStatus(outcome);
    if (initScript?.exitCode !== undefined && initScript.exitCode !== 0 && !sameRun(status.initScript, initScript)) {
      const message = initFailureMessage(name, initScript);
      context.events.warning(sliver, INIT_FAILED, message);
      context.log.info({ sliver: name, exitCode: initScript.exitCode }, message);
    }
    const initConditions = initScript ? [initCondition(name, initScript)] : [];

    const accountReady: ConditionInput = { type: CONDITION_ACCOUNT_READY, status: 'True', reason: 'AccountExists', message: `account ${name} has uid ${account.uid}` };
    const ready = readiness({ enabled, desired, running, resources });
    const xid = account.uid;
    await writeStatus<'Sliver'>(context.store, sliver, (s) => {
      // Field by field (withFields): a no-op write, every sliver's at a restart, compares these alone.
      const fields: Partial<SliverStatus> = {};
      // A start that ran no init script (none installed, or a node that cannot tell) forgets the last outcome.
      if (initScript || watchInit) fields.initScript = initScript;
      fields.xid = xid;
      fields.running = running;
      fields.runState = desired;
      if (started) fields.lastStartTime = now;
      setHandled(fields);
      if (effective) fields.appliedRSpec = effective;
      fields.observedGeneration = generation;
      fields.conditions = setConditions(s.conditions, [accountReady, resources, ready, ...initConditions], now, generation, watchInit && !initScript ? [CONDITION_INIT_SCRIPT] : []);
      return withFields(s, fields);
    });
    if (initScript && initScript.exitCode === undefined) {
      return { requeueAfter: Math.min(INIT_POLL_MAX_MS, Math.max(INIT_POLL_MIN_MS, context.clock.now() - Date.parse(initScript.startedAt))) };
    }
  }

  /** Every deleting object first, then the owner of the name, then a live object that lost the name. */
  async function reconcileName(name: string, context: ReconcileContext, ops: AccountOps): Promise<ReconcileResult | void> {
    const sliver = context.cache.get('Sliver', name);
    const delegate = context.cache.get('Delegate', name);
    const owner = [sliver, delegate].find((o) => o !== undefined && !isDeleting(o));
    for (const object of [sliver, delegate]) {
      if (object && isDeleting(object) && object.metadata.finalizers?.includes(ACCOUNT_FINALIZER)) await finalize(object, owner, ops, context);
    }
    if (!owner) {
      const account = !sliver && !delegate ? await ops.get() : undefined;
      if (account && adoptOrphans) {
        await destroy(ops, name);
        context.log.info({ account: name }, 'destroyed an orphan account: no Sliver or Delegate names it (--adopt-orphans)');
      } else if (account) {
        const message = `${account.class} account ${name} (uid ${account.uid}) has a managed shell but slv has no record of creating it: kept; delete it by hand, or run slvd with --adopt-orphans to have slv destroy such accounts`;
        context.events.warning(unrecordedAccount(account), UNRECORDED_ACCOUNT, message);
        context.log.warn({ account: name, uid: account.uid }, message);
      }
      return;
    }
    const other = owner === sliver ? delegate : undefined;
    if (other && !isDeleting(other)) await reportNameTaken(other, context);

    const object = await ensureFinalizer(owner, context);
    if (!object || isDeleting(object)) return; // deleted meanwhile: its own event brings it back here
    try {
      if (accountClassOf(object) === 'delegate') return await reconcileDelegateClass(object, ops, context);
      return await reconcileSliver(object as Sliver, ops, context);
    } catch (error) {
      if (isUnsupportedName(error)) {
        await reportUnsupportedName(object, error, context);
        throw new TerminalError(`the node cannot create an account named ${name}`, { cause: error });
      }
      await reportNodeError(object, error, context);
      throw error;
    }
  }

  async function sweepOrphans(context: ReconcileContext): Promise<void> {
    for (const { name } of await node.adapter.listAccounts()) {
      if (context.cache.get('Sliver', name) || context.cache.get('Delegate', name)) continue;
      await node.withAccount(name, (ops) => reconcileName(name, context, ops));
    }
  }

  let sweepQueued = false;
  return {
    name: 'account',
    watches: ['Sliver', 'Delegate'],
    indexes: LOAN_INDEXES,
    keysFor(event) {
      const keys = needsReconcile(event) ? [event.object.metadata.name] : [];
      if (sweepQueued) return keys;
      sweepQueued = true;
      return [...keys, ORPHAN_SWEEP_KEY];
    },
    async reconcile(key, context) {
      if (key === ORPHAN_SWEEP_KEY) return sweepOrphans(context);
      return node.withAccount(key, (ops) => reconcileName(key, context, ops));
    },
  };
}

/** `net_min, net_max (no bandwidth limiter …), disk_max (no quota …)`: each reason once, after the keys it concerns. */
function unsupportedText(unsupported: ReadonlyArray<{ resource: string; reason: string }>): string {
  if (unsupported.length === 0) return ''; // the common case, at every apply
  const byReason = new Map<string, string[]>();
  for (const { resource, reason } of unsupported) byReason.set(reason, [...(byReason.get(reason) ?? []), resource]);
  return [...byReason].map(([reason, resources]) => `${resources.join(', ')} (${reason})`).join('; ');
}

function initScriptStatus(outcome: InitOutcome): InitScriptStatus {
  return {
    startedAt: kubernetesTimestamp(outcome.startedAt),
    ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
    ...(outcome.finishedAt === undefined ? {} : { finishedAt: kubernetesTimestamp(outcome.finishedAt) }),
    lastOutput: outcome.tail,
  };
}

/** Whether two outcomes are of one run that ended the same way (so its failure was already reported). */
function sameRun(before: InitScriptStatus | undefined, after: InitScriptStatus): boolean {
  return before !== undefined && before.startedAt === after.startedAt && before.exitCode === after.exitCode;
}

function initFailureMessage(name: string, init: InitScriptStatus): string {
  const lastLine = init.lastOutput.split('\n').pop() ?? '';
  return `the init script exited with code ${init.exitCode}${lastLine === '' ? ' and printed nothing' : `: ${lastLine}`}; slvctl logs sliver ${name} shows its output`;
}

/** The InitScript condition: a failed init script leaves the sliver Ready (it runs; its STATUS says InitFailed). */
function initCondition(name: string, init: InitScriptStatus): ConditionInput {
  if (init.exitCode === undefined) return { type: CONDITION_INIT_SCRIPT, status: 'True', reason: 'Running', message: `the init script is running (started ${init.startedAt})` };
  if (init.exitCode === 0) return { type: CONDITION_INIT_SCRIPT, status: 'True', reason: 'Succeeded', message: 'the init script exited with code 0' };
  return { type: CONDITION_INIT_SCRIPT, status: 'False', reason: INIT_FAILED, message: initFailureMessage(name, init) };
}

function readiness(state: { enabled: boolean; desired: 'Running' | 'Stopped'; running: boolean; resources: ConditionInput }): ConditionInput {
  const notReady = (reason: string, message: string): ConditionInput => ({ type: CONDITION_READY, status: 'False', reason, message });
  if (!state.enabled) return notReady('Disabled', 'the rspec disables this sliver (enabled=0): it is stopped and remote login is off');
  if (state.desired === 'Stopped') return notReady('Stopped', 'spec.run.state is Stopped; set it to Running (Start) to run the sliver');
  // A limit this node cannot enforce at all (no quota support, no bwlimit) leaves the sliver usable;
  // a limit that failed to apply does not.
  if (state.resources.status !== 'True' && state.resources.reason !== RESOURCES_UNSUPPORTED) return notReady('ResourcesNotApplied', state.resources.message);
  if (!state.running) return notReady('NotRunning', 'the sliver is not running (the node restarted?); Start it (spec.run.start), or run slvd with --startup');
  return { type: CONDITION_READY, status: 'True', reason: 'Running', message: 'the account exists, its limits are applied and it is running' };
}

/**
 * Set conditions on a Sliver or a Delegate (observedGeneration too, unless `observe` is false);
 * `uid` goes to the delegate's uid or the sliver's xid.
 */
async function writeAccountConditions(
  object: AccountObject,
  inputs: ConditionInput[],
  context: ReconcileContext,
  { uid, observe = true, remove = [] }: { uid?: number; observe?: boolean; remove?: string[] } = {},
): Promise<void> {
  const now = kubernetesTimestamp(context.clock.now());
  const generation = object.metadata.generation;
  const uidField = object.kind === 'Delegate' ? 'uid' : 'xid';
  const change = <S extends SliverStatus | DelegateStatus>(status: Readonly<S>): S => {
    const conditions = setConditions(status.conditions, inputs, now, generation, remove);
    const fields: Partial<SliverStatus & DelegateStatus> = observe ? { observedGeneration: generation, conditions } : { conditions };
    if (uid !== undefined) fields[uidField] = uid;
    return withFields(status, fields as Partial<S>);
  };
  if (object.kind === 'Delegate') await writeStatus<'Delegate'>(context.store, object, change);
  else await writeStatus<'Sliver'>(context.store, object, change);
}

async function reportNameTaken(object: AccountObject, context: ReconcileContext): Promise<void> {
  const taken: ConditionInput = {
    type: CONDITION_ACCOUNT_READY,
    status: 'False',
    reason: 'NameTaken',
    message: `a Sliver named ${object.metadata.name} owns this account name; rename or delete one of them`,
  };
  await writeAccountConditions(object, [taken, { ...taken, type: CONDITION_READY }], context);
}

/** The node adapter refused the account's name itself (e.g. too long for its tools): retrying cannot help. */
function isUnsupportedName(error: unknown): error is InvalidError {
  return error instanceof InvalidError && error.causes.some((cause) => cause.field === 'name');
}

async function reportUnsupportedName(object: AccountObject, error: InvalidError, context: ReconcileContext): Promise<void> {
  const refused: ConditionInput = { type: CONDITION_ACCOUNT_READY, status: 'False', reason: 'AccountNameUnsupported', message: error.message };
  await writeAccountConditions(object, [refused, { ...refused, type: CONDITION_READY }], context);
}

async function reportNodeError(object: AccountObject, error: unknown, context: ReconcileContext): Promise<void> {
  const failed: ConditionInput =
    error instanceof MissingImageError
      ? { type: CONDITION_READY, status: 'False', reason: 'ImageMissing', message: `the sliver's image is not on this node: ${error.message}` }
      : { type: CONDITION_READY, status: 'False', reason: 'NodeError', message: `the node refused an operation: ${errorText(error)}` };
  try {
    // the runtime records the error itself as a ReconcileError event
    await writeAccountConditions(object, [failed], context, { observe: false });
  } catch (statusError) {
    context.log.warn({ err: statusError }, 'could not record the node error in status');
  }
}
