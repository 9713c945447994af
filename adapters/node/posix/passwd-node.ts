// What the linux, lxc and vserver adapters share: accounts read from <root>/etc/passwd, ssh keys in the
// account's home, the delegate login shell, the bandwidth limiter keyed by uid, and reading back
// an init script's run (where the adapter keeps one).
import { checkoutPath } from '../../../resources/checkout.js';
import type { AccountInfo, BandwidthLimiter, InitOutcome, LogChunk } from '../contract.js';
import { readInitLogChunk, readInitOutcome } from './init-log.js';
import type { AccountClass } from '../contract.js';
import { LocalAccounts, type ManagedShells, type PasswdEntry } from './accounts.js';

const DEFAULT_DELEGATE_SHELL_SOURCE = checkoutPath('native/forward_api_calls');

export interface PasswdNodeOptions {
  /** Filesystem root of the accounts (default '/'). */
  root?: string;
  bandwidth?: BandwidthLimiter;
  /** The delegate login shell to install (default native/forward_api_calls of this checkout). */
  delegateShellSource?: string;
  /** uids for accounts slv creates with useradd (default: useradd's, from <root>/etc/login.defs). */
  uidRange?: { min: number; max: number };
}

export abstract class PasswdNode {
  readonly root: string;
  readonly accounts: LocalAccounts;
  protected readonly bandwidth: BandwidthLimiter | undefined;
  protected readonly delegateShellSource: string;

  constructor(options: PasswdNodeOptions, shells: ManagedShells) {
    this.root = options.root ?? '/';
    this.accounts = new LocalAccounts({ root: this.root, shells, uidRange: options.uidRange });
    this.bandwidth = options.bandwidth;
    this.delegateShellSource = options.delegateShellSource ?? DEFAULT_DELEGATE_SHELL_SOURCE;
  }

  async listAccounts(): Promise<AccountInfo[]> {
    return this.accounts.list();
  }

  async getAccount(name: string): Promise<AccountInfo | undefined> {
    return this.accounts.get(name);
  }

  async accountNameByUid(uid: number): Promise<string | undefined> {
    return this.accounts.nameByUid(uid);
  }

  async setKeys(name: string, keys: string[]): Promise<void> {
    this.accounts.writeKeys(name, keys);
  }

  /**
   * The first step of destroying an account: undefined when it is absent (destroying is
   * idempotent), NotFound when slv does not manage it, else its entry with its bandwidth classes gone.
   */
  protected async beginDestroy(name: string): Promise<(PasswdEntry & { class: AccountClass }) | undefined> {
    if (!this.accounts.find(name)) return undefined;
    const account = this.accounts.require(name); // never destroy an account slv does not manage
    await this.bandwidth?.remove(account.uid);
    return account;
  }

  /** Nothing to release: the node's state is the OS itself (the bandwidth limiter is its owner's). */
  /**
   * Where this node keeps the files of an account's init script run (posix/init-log.ts); undefined
   * when it keeps none (vserver: the guest's own init runs the script, out of the adapter's sight).
   */
  protected initRunBase(_name: string): string | undefined {
    return undefined;
  }

  async initOutcome(name: string): Promise<InitOutcome | undefined> {
    this.accounts.require(name);
    const base = this.initRunBase(name);
    return base === undefined ? undefined : readInitOutcome(base);
  }

  async readInitLog(name: string, offset: number): Promise<LogChunk | undefined> {
    this.accounts.require(name);
    const base = this.initRunBase(name);
    return base === undefined ? undefined : readInitLogChunk(base, offset);
  }

  async close(): Promise<void> {}
}
