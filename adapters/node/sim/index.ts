// The simulated node: a NodeAdapter that keeps accounts (uid, class, type, keys, init script,
// limits, running state, login) in a state file under the data dir instead of touching the OS.
// It is the embedded default for the demo and the node for tests that are about controllers, so it
// also counts calls, can inject failures and can hold calls in flight.
import { ConflictError, NotFoundError } from '../../../resources/errors.js';
import { jsonEqual } from '../../../resources/equal.js';
import { RSPEC_KEYS, type RSpec } from '../../../schemas/types.js';
import { outputTail } from '../../../resources/init-output.js';
import type { AccountClass, AccountInfo, CpuPinning, InitOutcome, LimitReport, LogChunk, NodeAdapter } from '../contract.js';
import { StateFile } from './state-file.js';
import { assertAccountName } from '../posix/accounts.js';

/** The first uid handed out; lower uids belong to the system. */
export const SIM_FIRST_UID = 1000;
const STATE_FORMAT = 'slv-sim-node/v1';
const UIDS_FORMAT = 'slv-sim-uids/v1';

/** Everything the sim knows about one account (persisted). */
export interface SimAccount extends AccountInfo {
  type?: string;
  /** The reference image the sliver was created from, as given. */
  vref?: string;
  keys: string[];
  initscript: string;
  running: boolean;
  loginEnabled: boolean;
  /** The effective rspec last applied. */
  limits?: RSpec;
  /** The CPUs it is pinned to (cpu_cores), once pinned. */
  cpus?: number[];
  /** The simulated run of the init script by the last start. */
  initRun?: SimInitRun;
}

/** What a simulated init script does: its output, and its exit code (absent: it keeps running). */
export interface SimInitResult {
  output: string;
  exitCode?: number;
}

interface SimInitRun extends SimInitResult {
  startedAt: number;
}

/** Runs nothing: the sim's init scripts succeed at once, silently, unless a test says otherwise. */
const DEFAULT_INIT_RESULT: SimInitResult = { output: '', exitCode: 0 };

export const SIM_METHODS = [
  'listAccounts',
  'getAccount',
  'accountNameByUid',
  'createAccount',
  'destroyAccount',
  'setKeys',
  'setInitscript',
  'start',
  'stop',
  'isRunning',
  'applyLimits',
  'initOutcome',
  'readInitLog',
  'pinCpus',
] as const;
export type SimMethod = (typeof SIM_METHODS)[number];

export interface SimCall {
  method: SimMethod;
  /** The account the call is about (absent for listAccounts / accountNameByUid). */
  name?: string;
}

/** Decides whether a call fails: return the error to throw, or undefined to let it run. */
export type FailurePredicate = (call: SimCall) => Error | undefined;

export interface SimAdapterOptions {
  dataDir: string;
  /** Accounts outside the managed classes, by name (uid lookups see them; listAccounts does not). */
  systemAccounts?: Record<string, number>;
  /** How many of the latest calls `history` keeps (a daemon runs for months); 0 keeps none. */
  historyLimit?: number;
  /** How many CPUs the simulated node has for pinning (default 4). */
  cpuCount?: number;
}

const DEFAULT_SIM_CPUS = 4;

export const DEFAULT_SIM_HISTORY_LIMIT = 100_000;

interface MethodCounts {
  calls: number;
  inFlight: number;
  /** The most calls ever in flight at once. */
  maxInFlight: number;
}

export class SimAdapter implements NodeAdapter {
  readonly kind = 'sim';
  readonly cpuPinning: CpuPinning;
  /** The latest calls in the order they started (successful or not), at most historyLimit (about). */
  readonly history: SimCall[] = [];
  private readonly historyLimit: number;
  private readonly state: StateFile<SimAccount>;
  /** The uid each account name last had, kept after the account is destroyed, so the name gets it back. */
  private readonly uidsByName: StateFile<number>;
  private readonly systemAccounts: Map<number, string>;
  /** Each method's counts in one record: one look-up a call (a restart makes ~5 calls a sliver). */
  private readonly counts = new Map<SimMethod, MethodCounts>();
  private readonly failures: FailurePredicate[] = [];
  private readonly held = new Map<SimMethod, Array<() => void>>();
  private readonly holding = new Set<SimMethod>();
  private readonly initResults = new Map<string, SimInitResult>();
  private unenforceable: LimitReport['unsupported'] = [];
  /** The highest uid handed out so far, to this run or remembered (uids are not reused while a higher one exists). */
  private highestUid = SIM_FIRST_UID - 1;

  constructor(options: SimAdapterOptions) {
    this.state = new StateFile<SimAccount>({ dir: options.dataDir, name: 'sim-node', format: STATE_FORMAT });
    this.historyLimit = options.historyLimit ?? DEFAULT_SIM_HISTORY_LIMIT;
    const cpus = Array.from({ length: options.cpuCount ?? DEFAULT_SIM_CPUS }, (_, cpu) => cpu);
    this.cpuPinning = {
      available: async () => [...cpus],
      pin: (name, pinned) => this.call({ method: 'pinCpus', name }, () => this.change(name, { cpus: [...pinned] })),
    };
    this.uidsByName = new StateFile<number>({ dir: options.dataDir, name: 'sim-uids', format: UIDS_FORMAT });
    // A remembered uid counts as handed out, so no other name ever gets it.
    for (const account of this.state.records.values()) this.highestUid = Math.max(this.highestUid, account.uid);
    for (const uid of this.uidsByName.records.values()) this.highestUid = Math.max(this.highestUid, uid);
    this.systemAccounts = new Map(Object.entries({ root: 0, ...options.systemAccounts }).map(([name, uid]) => [uid, name]));
  }

  // ---- test controls ------------------------------------------------------------------------

  /** How many times `method` was called since this adapter was opened. */
  callCount(method: SimMethod): number {
    return this.counts.get(method)?.calls ?? 0;
  }

  /** The most calls of `method` that were ever in flight at once. */
  maxInFlight(method: SimMethod): number {
    return this.counts.get(method)?.maxInFlight ?? 0;
  }

  inFlight(method: SimMethod): number {
    return this.counts.get(method)?.inFlight ?? 0;
  }

  /** The next call of `method` (for account `name`, if given) throws `error`, once. */
  failNext(method: SimMethod, error: Error, name?: string): void {
    const predicate: FailurePredicate = (call) => {
      if (call.method !== method || (name !== undefined && call.name !== name)) return undefined;
      this.failures.splice(this.failures.indexOf(predicate), 1);
      return error;
    };
    this.failures.push(predicate);
  }

  /** Every call for which `predicate` returns an error throws it, until the returned function is called. */
  failWhen(predicate: FailurePredicate): () => void {
    this.failures.push(predicate);
    return () => {
      const index = this.failures.indexOf(predicate);
      if (index >= 0) this.failures.splice(index, 1);
    };
  }

  /** Calls of `method` wait (in flight) until `release(method)`. */
  hold(method: SimMethod): void {
    this.holding.add(method);
  }

  release(method: SimMethod): void {
    this.holding.delete(method);
    const waiting = this.held.get(method) ?? [];
    this.held.delete(method);
    for (const resume of waiting) resume();
  }

  /** What the init script of `name` does when a start runs it from now on (undefined: succeed silently). */
  setInitscriptResult(name: string, result: SimInitResult | undefined): void {
    if (result) this.initResults.set(name, { ...result });
    else this.initResults.delete(name);
  }

  /** From now on applyLimits reports these keys as ones this node cannot enforce (a node without quotas or bwlimit). */
  setUnenforceable(unsupported: LimitReport['unsupported']): void {
    this.unenforceable = unsupported.map((entry) => ({ ...entry }));
  }

  /** A copy of the full record of an account, or undefined. */
  inspect(name: string): SimAccount | undefined {
    const account = this.state.records.get(name);
    return account && structuredClone(account);
  }

  // ---- NodeAdapter ----------------------------------------------------------------------------

  async listAccounts(): Promise<AccountInfo[]> {
    return this.call({ method: 'listAccounts' }, () => [...this.state.records.values()].map(accountInfo));
  }

  async getAccount(name: string): Promise<AccountInfo | undefined> {
    return this.call({ method: 'getAccount', name }, () => {
      const account = this.state.records.get(name);
      return account && accountInfo(account);
    });
  }

  async accountNameByUid(uid: number): Promise<string | undefined> {
    return this.call({ method: 'accountNameByUid' }, () => {
      const system = this.systemAccounts.get(uid);
      if (system !== undefined) return system;
      for (const account of this.state.records.values()) if (account.uid === uid) return account.name;
      return undefined;
    });
  }

  async createAccount(name: string, accountClass: AccountClass, type?: string, vref?: string): Promise<AccountInfo> {
    return this.call({ method: 'createAccount', name }, () => {
      assertAccountName(name); // a simulated Linux node: its account tools' name rules
      const existing = this.state.records.get(name);
      if (existing) {
        if (existing.class !== accountClass) throw new ConflictError('account', name, `it exists with class ${existing.class}, not ${accountClass}`);
        return accountInfo(existing);
      }
      if ([...this.systemAccounts.values()].includes(name)) throw new ConflictError('account', name, 'it is a system account');
      const account: SimAccount = {
        name,
        uid: this.rememberedUid(name) ?? ++this.highestUid,
        class: accountClass,
        ...(type === undefined ? {} : { type }),
        ...(vref === undefined ? {} : { vref }),
        keys: [],
        initscript: '',
        running: false,
        loginEnabled: true,
      };
      this.state.put(name, account);
      this.uidsByName.put(name, account.uid);
      return accountInfo(account);
    });
  }

  async destroyAccount(name: string): Promise<void> {
    return this.call({ method: 'destroyAccount', name }, () => {
      if (this.state.records.has(name)) this.state.put(name, undefined);
    });
  }

  async setKeys(name: string, keys: string[]): Promise<void> {
    return this.call({ method: 'setKeys', name }, () => this.change(name, { keys: [...keys] }));
  }

  async setInitscript(name: string, script: string): Promise<void> {
    return this.call({ method: 'setInitscript', name }, () => this.change(name, { initscript: script }));
  }

  /** A start of a stopped sliver with an init script runs it (simulated: setInitscriptResult). */
  async start(name: string): Promise<void> {
    return this.call({ method: 'start', name }, () => {
      const account = this.existing(name);
      if (account.running) return;
      const run = account.initscript === '' ? {} : { initRun: { ...(this.initResults.get(name) ?? DEFAULT_INIT_RESULT), startedAt: Date.now() } };
      this.change(name, { running: true, ...run });
    });
  }

  async initOutcome(name: string): Promise<InitOutcome | undefined> {
    return this.call({ method: 'initOutcome', name }, () => {
      const run = this.existing(name).initRun;
      if (!run) return undefined;
      const exited = run.exitCode === undefined ? {} : { exitCode: run.exitCode, finishedAt: run.startedAt };
      return { startedAt: run.startedAt, ...exited, tail: outputTail(run.output) };
    });
  }

  async readInitLog(name: string, offset: number): Promise<LogChunk> {
    return this.call({ method: 'readInitLog', name }, () => {
      const log = Buffer.from(this.existing(name).initRun?.output ?? '');
      const from = offset > log.length ? 0 : offset;
      return { text: log.subarray(from).toString('utf8'), nextOffset: log.length };
    });
  }

  async stop(name: string): Promise<void> {
    return this.call({ method: 'stop', name }, () => this.change(name, { running: false }));
  }

  async isRunning(name: string): Promise<boolean> {
    return this.call({ method: 'isRunning', name }, () => this.existing(name).running);
  }

  async applyLimits(name: string, rspec: RSpec): Promise<LimitReport> {
    return this.call({ method: 'applyLimits', name }, () => {
      this.change(name, { limits: { ...rspec }, loginEnabled: rspec.enabled !== 0 });
      const unsupported = this.unenforceable.map((entry) => ({ ...entry }));
      return { applied: RSPEC_KEYS.filter((key) => !unsupported.some((entry) => entry.resource === key)), unsupported };
    });
  }

  async close(): Promise<void> {
    for (const method of [...this.holding]) this.release(method);
    this.state.close();
    this.uidsByName.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  private async call<T>(call: SimCall, body: () => T): Promise<T> {
    const { method } = call;
    if (this.historyLimit > 0) {
      this.history.push(call);
      // Trimmed in halves, so the cost per call stays constant.
      if (this.history.length >= 2 * this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    }
    let counts = this.counts.get(method);
    if (!counts) this.counts.set(method, (counts = { calls: 0, inFlight: 0, maxInFlight: 0 }));
    counts.calls += 1;
    counts.inFlight += 1;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    try {
      if (this.holding.has(method)) {
        await new Promise<void>((resume) => {
          const waiting = this.held.get(method);
          if (waiting) waiting.push(resume);
          else this.held.set(method, [resume]);
        });
      }
      // Copied when there are any: a failNext predicate removes itself.
      if (this.failures.length > 0) {
        for (const predicate of [...this.failures]) {
          const error = predicate(call);
          if (error) throw error;
        }
      }
      return body();
    } finally {
      counts.inFlight -= 1;
    }
  }

  /** The uid `name` had before (no other name is given it: see highestUid), unless a system account has it. */
  private rememberedUid(name: string): number | undefined {
    const uid = this.uidsByName.records.get(name);
    return uid === undefined || this.systemAccounts.has(uid) ? undefined : uid;
  }

  private existing(name: string): SimAccount {
    const account = this.state.records.get(name);
    if (!account) throw new NotFoundError('account', name);
    return account;
  }

  /** Set `fields` of an existing account; a change that sets nothing new journals nothing (a restarted node reapplies every account's setup). */
  private change(name: string, fields: Partial<SimAccount>): void {
    const account = this.existing(name); // a NotFoundError for an account that does not exist
    for (const field in fields) {
      if (!jsonEqual(account[field as keyof SimAccount], fields[field as keyof SimAccount])) {
        this.state.patch(name, fields);
        return;
      }
    }
  }
}

function accountInfo(account: SimAccount): AccountInfo {
  return { name: account.name, uid: account.uid, class: account.class, ...(account.type === undefined ? {} : { type: account.type }) };
}

export function createSimAdapter(options: SimAdapterOptions): SimAdapter {
  return new SimAdapter(options);
}
