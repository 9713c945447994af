// The Node Manager API methods (docs/behaviour.md §6) over the store: every method reads specs or writes
// desired state (run state, instantiation, Loans); the controllers act on the node. The checks run
// in the order clients rely on: method, argument count, caller identity, sliver, permission, loans.
import { mayCallOnSliver, type Caller } from '../../../resources/authz.js';
import { InvalidError } from '../../../resources/errors.js';
import { loansOfLender } from '../../../resources/loans.js';
import { computeEffectiveRSpecs, fullRSpec, parseLoanList } from '../../../resources/rspec.js';
import { retryOnConflict } from '../../support/retry.js';
import type { Store } from '../../store/contract.js';
import type { CommittedReads } from '../../store/committed-reads.js';
import type { Loan, RSpec, RunSpec, Sliver } from '../../../schemas/types.js';
import type { NodeAdapter } from '../../node/contract.js';
import { replaceLoans } from '../loan-replacement.js';
import { XmlRpcFault, encodedOnce, type EncodedResponse } from './codec.js';

export interface ApiContext {
  /** For writes. */
  store: Store;
  /** For reads: the store's current objects, from slvd's cache when it is current. Never change what it returns. */
  reads: CommittedReads;
  node: NodeAdapter;
  /** Unix seconds; slivers with `expires < now` count as gone. */
  nowSeconds(): number;
}

interface Invocation {
  context: ApiContext;
  /** Undefined: the kernel could not name the caller (public methods do not ask). */
  caller: Caller | undefined;
  params: unknown[];
}

/**
 * Who may call a method: `public` anyone who reaches the socket, `caller` any identified caller,
 * `sliver` the sliver named by the first argument, root, or a delegation naming the caller.
 */
type MethodDefinition = {
  /** Parameter names, for Help; their count is the required argument count. */
  params: readonly string[];
  doc: string;
} & ({ access: 'public' | 'caller'; run(invocation: Invocation): Promise<unknown> } | { access: 'sliver'; run(invocation: Invocation, sliver: Sliver): Promise<unknown> });

export const FAULT_UNKNOWN_METHOD = 100;
export const FAULT_ARGUMENT_COUNT = 101;
export const FAULT_INVALID_ARGUMENT = 102;
export const FAULT_CALL_FAILED = 104;
export const FAULT_PERMISSION = 108;

const NOT_A_SLIVER = 'Invalid argument: the first argument must be a sliver name.';
const BAD_LOANS = 'Invalid argument: the second argument must be a well-formed loan specification';

/** The field manager SetLoans records on the Loans it writes. */
const SETLOANS_MANAGER = 'SetLoans';

/** Conflicting writers (the controllers write status, not spec, so this is rare): re-read and retry. */
const CONFLICT_RETRIES = 5;

async function changeRun(store: Store, name: string, change: (run: RunSpec) => RunSpec): Promise<1> {
  await retryOnConflict(
    async () => {
      const sliver = await store.get('Sliver', name);
      await store.update({ ...sliver, spec: { ...sliver.spec, run: change({ ...sliver.spec.run }) } });
    },
    { attempts: CONFLICT_RETRIES },
  );
  return 1;
}

function isLive(sliver: Sliver, nowSeconds: number): boolean {
  return sliver.metadata.deletionTimestamp === undefined && (sliver.spec.expires === undefined || sliver.spec.expires >= nowSeconds);
}

/** The last computation per context, valid while the store revision and the second are the same. */
const effectiveCache = new WeakMap<ApiContext, { key: string; result: Promise<Map<string, RSpec>> }>();

/**
 * Effective rspecs of every live sliver from the current specs, so a SetLoans shows at once.
 * Reads between two writes (in the same second, as expiry is by the second) share one computation.
 */
function effectiveRSpecs(context: ApiContext): Promise<Map<string, RSpec>> {
  const now = context.nowSeconds();
  const key = `${context.store.revision()}@${now}`;
  const cached = effectiveCache.get(context);
  if (cached?.key === key) return cached.result;
  const result = computeEffectiveNow(context, now);
  effectiveCache.set(context, { key, result });
  result.catch(() => effectiveCache.delete(context));
  return result;
}

async function computeEffectiveNow(context: ApiContext, now: number): Promise<Map<string, RSpec>> {
  const [slivers, loans] = await Promise.all([context.reads.list('Sliver'), context.reads.list('Loan')]);
  const rspecs = new Map(slivers.filter((s) => isLive(s, now)).map((s) => [s.metadata.name, s.spec.rspec]));
  return computeEffectiveRSpecs(
    rspecs,
    loans.map((loan) => ({ id: loan.metadata.name, ...loan.spec })),
  ).effective;
}

async function loansOf(reads: CommittedReads, lender: string): Promise<Loan[]> {
  return loansOfLender(await reads.list('Loan'), lender);
}

/** A sliver's record as the original API reported it: PLC fields plus `_rspec` and `_loans`. */
async function sliverRecord(context: ApiContext, sliver: Sliver): Promise<Record<string, unknown>> {
  const name = sliver.metadata.name;
  const [effective, loans] = await Promise.all([effectiveRSpecs(context), loansOf(context.reads, name)]);
  return {
    name,
    type: sliver.spec.type,
    instantiation: sliver.spec.instantiation,
    keys: sliver.spec.keys.join('\n'),
    initscript: sliver.spec.initscript,
    delegations: sliver.spec.delegations,
    timestamp: sliver.spec.timestamp,
    ...(sliver.spec.expires === undefined ? {} : { expires: sliver.spec.expires }),
    rspec: fullRSpec(sliver.spec.rspec),
    _rspec: effective.get(name) ?? fullRSpec(sliver.spec.rspec),
    _loans: loans.map((loan) => [loan.spec.to, loan.spec.resource, loan.spec.amount]),
  };
}

// Encoded answers per sliver object (GetRSpec) and per effective rspec object (GetEffectiveRSpec):
// with reads from the cache, every call on an unchanged sliver gets the same objects.
const rspecAnswers = new WeakMap<Sliver, EncodedResponse>();
const effectiveAnswers = new WeakMap<RSpec, EncodedResponse>();

const METHODS: Record<string, MethodDefinition> = {
  Help: {
    params: [],
    doc: 'return this text: one line of documentation per method',
    access: 'public',
    run: async () => helpText(),
  },
  Create: {
    params: ['sliver_name'],
    doc: 'create the account of a sliver with delegated instantiation',
    access: 'sliver',
    run: ({ context }, sliver) => (sliver.spec.instantiation === 'delegated' ? changeRun(context.store, sliver.metadata.name, (run) => ({ ...run, instantiated: true })) : Promise.resolve(1)),
  },
  Destroy: {
    params: ['sliver_name'],
    doc: 'destroy the account of a sliver with delegated instantiation',
    access: 'sliver',
    run: ({ context }, sliver) => (sliver.spec.instantiation === 'delegated' ? changeRun(context.store, sliver.metadata.name, (run) => ({ ...run, instantiated: false })) : Promise.resolve(1)),
  },
  Start: {
    params: ['sliver_name'],
    doc: 'run the start scripts of the sliver',
    access: 'sliver',
    // Bumping `start` makes Start act even when the desired state already was Running (a sliver a
    // reboot left stopped): the account controller starts once per bump.
    run: ({ context }, sliver) => changeRun(context.store, sliver.metadata.name, (run) => ({ ...run, state: 'Running', start: (run.start ?? 0) + 1 })),
  },
  Stop: {
    params: ['sliver_name'],
    doc: 'kill all processes of the sliver',
    access: 'sliver',
    run: ({ context }, sliver) => changeRun(context.store, sliver.metadata.name, (run) => ({ ...run, state: 'Stopped' })),
  },
  ReCreate: {
    params: ['sliver_name'],
    doc: 'stop the sliver, recreate its account and start it again',
    access: 'sliver',
    run: ({ context }, sliver) => changeRun(context.store, sliver.metadata.name, (run) => ({ ...run, recreate: (run.recreate ?? 0) + 1 })),
  },
  GetEffectiveRSpec: {
    params: ['sliver_name'],
    doc: 'return the resource spec of the sliver including loans',
    access: 'sliver',
    run: async ({ context }, sliver) => {
      const effective = (await effectiveRSpecs(context)).get(sliver.metadata.name);
      return effective ? encodedOnce(effectiveAnswers, effective, () => effective) : fullRSpec(sliver.spec.rspec);
    },
  },
  GetRSpec: {
    params: ['sliver_name'],
    doc: 'return the resource spec of the sliver from PLC, excluding loans',
    access: 'sliver',
    run: async (_invocation, sliver) => encodedOnce(rspecAnswers, sliver, () => fullRSpec(sliver.spec.rspec)),
  },
  GetLoans: {
    params: ['sliver_name'],
    doc: 'return the loans made by the sliver, in order, as [target, resource, amount]',
    access: 'sliver',
    run: async ({ context }, sliver) => (await loansOf(context.reads, sliver.metadata.name)).map((loan) => [loan.spec.to, loan.spec.resource, loan.spec.amount]),
  },
  SetLoans: {
    params: ['sliver_name', 'loans'],
    doc: 'replace the loans made by the sliver with a list of [target, resource, amount]',
    access: 'sliver',
    run: async ({ context, params }, sliver) => {
      const loans = parseLoanList(params[1]);
      if (!loans) throw new XmlRpcFault(FAULT_INVALID_ARGUMENT, BAD_LOANS);
      try {
        await replaceLoans(context.store, { lender: sliver.metadata.name, loans }, { fieldManager: SETLOANS_MANAGER });
      } catch (error) {
        // The store refused the list itself (a target that cannot be an account name): nothing was written.
        if (error instanceof InvalidError) throw new XmlRpcFault(FAULT_INVALID_ARGUMENT, BAD_LOANS, { cause: error });
        throw error;
      }
      return 1;
    },
  },
  GetXIDs: {
    params: [],
    doc: 'return a struct mapping every sliver name to its xid (uid)',
    access: 'caller',
    run: async ({ context }) => Object.fromEntries((await context.node.listAccounts()).filter((a) => a.class === 'sliver').map((a) => [a.name, a.uid])),
  },
  GetSSHKeys: {
    params: [],
    doc: 'return a struct mapping every sliver name to its ssh keys, one per line',
    access: 'caller',
    run: async ({ context }) => {
      const now = context.nowSeconds();
      const slivers = (await context.reads.list('Sliver')).filter((s) => isLive(s, now));
      return Object.fromEntries(slivers.map((s) => [s.metadata.name, s.spec.keys.join('\n')]));
    },
  },
  GetRecord: {
    params: [],
    doc: "return the caller's own record",
    access: 'caller',
    run: async ({ context, caller }) => {
      const name = caller?.account;
      if (name === undefined) throw new XmlRpcFault(FAULT_CALL_FAILED, `Error in call: uid ${caller?.uid} has no account on this node`);
      const sliver = await context.reads.tryGet('Sliver', name);
      if (sliver && isLive(sliver, context.nowSeconds())) return sliverRecord(context, sliver);
      const delegate = await context.reads.tryGet('Delegate', name);
      if (delegate) {
        return { name, type: 'delegate', instantiation: delegate.spec.instantiation ?? 'plc-instantiated', keys: delegate.spec.keys.join('\n'), timestamp: delegate.spec.timestamp };
      }
      throw new XmlRpcFault(FAULT_CALL_FAILED, `Error in call: no record for account "${name}"`);
    },
  },
};

const METHOD_NAMES = Object.keys(METHODS).sort();

/** Whether `name` is one of the API's methods. */
export function isApiMethod(name: string): boolean {
  return Object.hasOwn(METHODS, name);
}

function helpText(): string {
  return METHOD_NAMES.map((name) => {
    const method = METHODS[name]!;
    return `${name}(${method.params.join(', ')}): ${method.doc}\n`;
  }).join('');
}

/**
 * Run one API call. `identify` is asked for the caller only once the method and argument count are
 * known to be right. Every failure is an XmlRpcFault with the code and string clients expect.
 */
export async function callApiMethod(context: ApiContext, identify: () => Promise<Caller | undefined>, method: string, params: unknown[]): Promise<unknown> {
  const definition = isApiMethod(method) ? METHODS[method] : undefined;
  if (!definition) throw new XmlRpcFault(FAULT_UNKNOWN_METHOD, `Invalid API method ${method}.  Valid choices are ${METHOD_NAMES.join(', ')}`);
  if (params.length !== definition.params.length) {
    throw new XmlRpcFault(FAULT_ARGUMENT_COUNT, `Invalid argument count: got ${params.length}, expecting ${definition.params.length}.`);
  }
  try {
    const caller = definition.access === 'public' ? undefined : await identify();
    const invocation = { context, caller, params };
    if (definition.access !== 'sliver') {
      if (definition.access === 'caller' && caller === undefined) throw new XmlRpcFault(FAULT_PERMISSION, 'Permission denied.');
      return await definition.run(invocation);
    }
    const name = params[0];
    const sliver = typeof name === 'string' ? await context.reads.tryGet('Sliver', name) : undefined;
    if (!sliver || !isLive(sliver, context.nowSeconds())) throw new XmlRpcFault(FAULT_INVALID_ARGUMENT, NOT_A_SLIVER);
    if (!caller || !mayCallOnSliver(caller, sliver.metadata.name, sliver, [method])) throw new XmlRpcFault(FAULT_PERMISSION, 'Permission denied.');
    return await definition.run(invocation, sliver);
  } catch (error) {
    if (error instanceof XmlRpcFault) throw error;
    throw new XmlRpcFault(FAULT_CALL_FAILED, `Error in call: ${(error as Error).message}`, { cause: error });
  }
}
