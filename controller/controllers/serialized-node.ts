// The node as the controllers use it: the NodeAdapter with the original's ordering guarantees
// (docs/behaviour.md §5). Operations on one account run strictly one after another, whichever controller
// asks; creates are serialized node-wide, and so are destroys. It also remembers which slivers were
// started since the daemon came up, so the startup stagger never starts one a second time.
import type { RSpec } from '../../schemas/types.js';
import type { AccountClass, AccountInfo, LimitReport, NodeAdapter } from '../../adapters/node/contract.js';
import { KeyedSequencer, Sequencer } from '../../adapters/support/sequencer.js';

/** Node operations on one account, run while holding that account's lock. */
export interface AccountOps {
  get(): Promise<AccountInfo | undefined>;
  create(accountClass: AccountClass, type?: string, vref?: string): Promise<AccountInfo>;
  destroy(): Promise<void>;
  setKeys(keys: string[]): Promise<void>;
  setInitscript(script: string): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): Promise<boolean>;
  applyLimits(rspec: RSpec): Promise<LimitReport>;
  /** Pin the sliver to these CPUs; false when the node cannot pin. */
  pinCpus(cpus: readonly number[]): Promise<boolean>;
  /** Whether this account was started since the controllers were created. */
  startedThisRun(): boolean;
}

export class SerializedNode {
  private readonly accounts = new KeyedSequencer();
  private readonly creates = new Sequencer();
  private readonly destroys = new Sequencer();
  private readonly started = new Set<string>();

  constructor(readonly adapter: NodeAdapter) {}

  /** Run `task` with exclusive use of account `name`. */
  withAccount<T>(name: string, task: (ops: AccountOps) => Promise<T>): Promise<T> {
    const { adapter } = this;
    const ops: AccountOps = {
      get: () => adapter.getAccount(name),
      create: (accountClass, type, vref) => this.creates.run(() => adapter.createAccount(name, accountClass, type, vref)),
      destroy: async () => {
        await this.destroys.run(() => adapter.destroyAccount(name));
        this.started.delete(name);
      },
      setKeys: (keys) => adapter.setKeys(name, keys),
      setInitscript: (script) => adapter.setInitscript(name, script),
      start: async () => {
        await adapter.start(name);
        this.started.add(name);
      },
      stop: () => adapter.stop(name),
      isRunning: () => adapter.isRunning(name),
      applyLimits: (rspec) => adapter.applyLimits(name, rspec),
      pinCpus: async (cpus) => {
        if (!adapter.cpuPinning) return false;
        await adapter.cpuPinning.pin(name, cpus);
        return true;
      },
      startedThisRun: () => this.started.has(name),
    };
    return this.accounts.run(name, () => task(ops));
  }
}
