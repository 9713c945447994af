// The vserver node adapter: the util-vserver command set the 2006 Node Manager drove. Slivers are
// VServers made by `vuseradd` (an account with login shell /bin/vsh whose uid is the context id),
// started and stopped with `vserver NAME start|stop`, CPU by `vsched`, disk by `vdlimit` (KiB),
// network by the bwlimit adapter. Delegates are plain accounts, as in the original's delegate.py.
// docs/adapters.md lists the exact commands.
import { join } from 'node:path';
import { BadRequestError, NodeError } from '../../../resources/errors.js';
import { CPU_GUARANTEE_THRESHOLD } from '../../../resources/rspec.js';
import type { RSpec } from '../../../schemas/types.js';
import { runCommand } from '../../support/exec.js';
import type { PasswdEntry } from '../posix/accounts.js';
import { appliedReport, applyBandwidth, mergeReports } from '../posix/limits.js';
import { PasswdNode, type PasswdNodeOptions } from '../posix/passwd-node.js';
import { killAll } from '../posix/processes.js';
import { PinnedDir } from '../posix/safe-write.js';
import { installProgram, registerShells } from '../posix/shells.js';
import type { AccountClass, AccountInfo, LimitReport, NodeAdapter } from '../contract.js';

export const VSERVER_SHELLS = { sliver: '/bin/vsh', delegate: '/bin/forward_api_calls' } as const;
/** Where the guests live inside the root. */
export const VSERVERS_DIR = '/vservers';
/** The scheduler's token interval: fill-rate tokens per 1000 ms, so cpu_min reads as ms per second. */
export const SCHED_INTERVAL = 1000;
const VSERVER_EXIT_NOT_RUNNING = 1;

/** `root` (default '/') holds the accounts in <root>/etc and the guests in <root>/vservers. */
export interface VServerAdapterOptions extends PasswdNodeOptions {
  /** Where vuseradd, vuserdel, vserver, vsched and vdlimit are (default <root>/usr/sbin). */
  commandDir?: string;
  /** Per-command timeout (`vserver NAME start` runs the guest's init). */
  commandTimeoutMs?: number;
}

/** The vsched arguments for an rspec: a disabled sliver gets no CPU tokens at all. */
export function schedArgs(xid: number, rspec: Pick<RSpec, 'enabled' | 'cpu_min' | 'cpu_share'>): string[] {
  const base = ['--xid', String(xid)];
  if (rspec.enabled === 0) return [...base, '--fill-rate', '0', '--interval', String(SCHED_INTERVAL)];
  // A guarantee is a hard reservation of cpu_min ms per second; a share may also use idle time.
  if (rspec.cpu_min >= CPU_GUARANTEE_THRESHOLD) return [...base, '--fill-rate', String(rspec.cpu_min), '--interval', String(SCHED_INTERVAL)];
  return [...base, '--fill-rate', String(rspec.cpu_share), '--interval', String(SCHED_INTERVAL), '--idle-time'];
}

export class VServerAdapter extends PasswdNode implements NodeAdapter {
  readonly kind: string = 'vserver';
  readonly commandDir: string;
  private readonly timeoutMs: number | undefined;

  constructor(options: VServerAdapterOptions) {
    super(options, VSERVER_SHELLS);
    this.commandDir = options.commandDir ?? join(this.root, 'usr/sbin');
    this.timeoutMs = options.commandTimeoutMs;
  }

  async createAccount(name: string, accountClass: AccountClass, type?: string): Promise<AccountInfo> {
    const existing = this.accounts.existing(name, accountClass, type);
    if (existing) return existing;
    if (accountClass === 'delegate') {
      installProgram(this.root, VSERVER_SHELLS.delegate, this.delegateShellSource);
      registerShells(this.root, [VSERVER_SHELLS.delegate]);
      return this.accounts.add(name, 'delegate', type);
    }
    await this.run('vuseradd', [name]);
    const created = this.accounts.get(name);
    if (created?.class !== 'sliver') throw new NodeError(`vuseradd ${name} did not leave an account with login shell ${VSERVER_SHELLS.sliver} in ${this.accounts.path('/etc/passwd')}`);
    return created;
  }

  async destroyAccount(name: string): Promise<void> {
    const account = await this.beginDestroy(name);
    if (!account) return;
    if (account.class === 'sliver') {
      await this.run('vuserdel', [name]); // stops the vserver first
    } else {
      await killAll(account.uid, () => []);
      await this.accounts.remove(name);
    }
  }

  /** `/etc/rc.vinit` inside the guest, mode 0755; the guest's root may have planted symlinks. */
  async setInitscript(name: string, script: string): Promise<void> {
    this.requireSliver(name);
    const guest = PinnedDir.open(this.guestDir(name));
    try {
      const etc = PinnedDir.open(`${guest.path}/etc`, { uid: 0, gid: 0, mode: 0o755, parent: guest });
      try {
        if (script === '') etc.removeFile('rc.vinit');
        else etc.writeFile('rc.vinit', script, { uid: 0, gid: 0, mode: 0o755 });
      } finally {
        etc.close();
      }
    } finally {
      guest.close();
    }
  }

  async start(name: string): Promise<void> {
    this.requireSliver(name);
    if (!(await this.running(name))) await this.run('vserver', [name, 'start']);
  }

  async stop(name: string): Promise<void> {
    this.requireSliver(name);
    if (await this.running(name)) await this.run('vserver', [name, 'stop']);
  }

  async isRunning(name: string): Promise<boolean> {
    this.requireSliver(name);
    return this.running(name);
  }

  async applyLimits(name: string, rspec: RSpec): Promise<LimitReport> {
    const entry = this.requireSliver(name);
    const enabled = rspec.enabled !== 0;
    await this.run('vsched', schedArgs(entry.uid, rspec));
    await this.run('vdlimit', ['--xid', String(entry.uid), '--set', `space_total=${rspec.disk_max}`, this.guestDir(name)]);
    await this.accounts.setLoginEnabled(name, enabled);
    if (!enabled) await this.stop(name);
    const net = await applyBandwidth(this.bandwidth, entry.uid, rspec);
    return mergeReports([appliedReport(['enabled', 'cpu_min', 'cpu_share', 'disk_max']), net]);
  }

  private requireSliver(name: string): PasswdEntry {
    const entry = this.accounts.require(name);
    if (entry.class !== 'sliver') throw new BadRequestError(`"${name}" is a delegate account: it has no vserver`);
    return entry;
  }

  private guestDir(name: string): string {
    return this.accounts.path(`${VSERVERS_DIR}/${name}`);
  }

  private async running(name: string): Promise<boolean> {
    const { exitCode } = await this.run('vserver', [name, 'running'], [VSERVER_EXIT_NOT_RUNNING]);
    return exitCode === 0;
  }

  private run(command: string, args: string[], okExitCodes: number[] = []) {
    return runCommand(join(this.commandDir, command), args, { okExitCodes, ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }) });
  }
}

export function createVServerAdapter(options: VServerAdapterOptions): VServerAdapter {
  return new VServerAdapter(options);
}
