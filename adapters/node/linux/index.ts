// The linux node adapter: slivers and delegates are Unix accounts under a filesystem root (a
// prefix in tests and chroot deployments, '/' on a node), CPU limits are cgroups, network limits go
// to the bwlimit adapter by uid, disk limits to the quota tools where the filesystem has quotas.
// docs/adapters.md lists every path and command.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RSpec } from '../../../schemas/types.js';
import { startDetached } from '../../support/exec.js';
import type { AccountClass, AccountInfo, CpuPinning, LimitReport, NodeAdapter } from '../contract.js';
import type { PasswdEntry } from '../posix/accounts.js';
import { CpuCgroups, defaultCgroupParent } from '../posix/cgroup.js';
import { CpusetCgroups, defaultCpusetParent } from '../posix/cpuset.js';
import { setDiskQuota } from './disk-quota.js';
import { appliedReport, applyBandwidth, mergeReports, unsupportedReport } from '../posix/limits.js';
import { PasswdNode, type PasswdNodeOptions } from '../posix/passwd-node.js';
import { killAll } from '../posix/processes.js';
import { installFile, installProgram, registerShells } from '../posix/shells.js';

/** Login shells inside the root; the class of an account is told by its shell (docs/behaviour.md §5). */
export const LINUX_SHELLS = { sliver: '/bin/vsh', delegate: '/bin/forward_api_calls' } as const;
/** Where a sliver's init script lives inside the root (root-owned, mode 0755). */
export const INITSCRIPT_DIR = '/etc/slv';
/** Run-state markers: under /run so a reboot forgets them, as it forgets the processes. */
export const RUN_DIR = '/run/slv/running';
const SETPRIV = '/usr/bin/setpriv';

export interface LinuxAdapterOptions extends PasswdNodeOptions {
  /** slvd's data dir: init script output goes to <dataDir>/initscripts/NAME.log. */
  dataDir: string;
  /** The cgroup that holds one cgroup per sliver (default: `slv` under the cpu hierarchy). */
  cgroupParent?: string;
  /** The cgroup v1 cpuset that holds one cpuset per sliver (default: `slv` under the cpuset hierarchy, when mounted). */
  cpusetParent?: string;
}

export function initscriptPath(name: string): string {
  return `${INITSCRIPT_DIR}/rc.vinit.${name}`;
}

export function sliverShellScript(cgroupParent: string): string {
  return [
    '#!/bin/bash',
    "# slv sliver login shell: join the sliver's CPU cgroup when the node lets the account (cgroup v1),",
    '# then run bash, as a login shell when sshd asked for one.',
    `procs=${shellQuote(cgroupParent)}/"$(id -un)"/cgroup.procs`,
    '[ -w "$procs" ] && echo $$ > "$procs" 2>/dev/null',
    'case "$0" in -*) exec -l /bin/bash "$@" ;; esac',
    'exec /bin/bash "$@"',
    '',
  ].join('\n');
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export class LinuxAdapter extends PasswdNode implements NodeAdapter {
  readonly kind: string = 'linux';
  readonly cgroups: CpuCgroups | undefined;
  readonly cpusets: CpusetCgroups | undefined;
  readonly cpuPinning: CpuPinning | undefined;
  /** Why CPU limits cannot be enforced, when no cgroup filesystem is usable. */
  private readonly cgroupProblem: string | undefined;
  private readonly logDir: string;
  private shellsInstalled = false;

  constructor(options: LinuxAdapterOptions) {
    super(options, LINUX_SHELLS);
    this.logDir = join(options.dataDir, 'initscripts');
    try {
      this.cgroups = new CpuCgroups(options.cgroupParent ?? defaultCgroupParent());
    } catch (error) {
      this.cgroupProblem = `CPU limits not enforced: ${(error as Error).message}`;
    }
    const cpusetParent = options.cpusetParent ?? defaultCpusetParent();
    // Pinning needs the CPU cgroup too: that is where the sliver's processes are found.
    this.cpusets = cpusetParent !== undefined && this.cgroups ? new CpusetCgroups(cpusetParent) : undefined;
    const { cpusets, cgroups } = this;
    this.cpuPinning =
      cpusets && cgroups
        ? {
            available: async () => cpusets.available(),
            pin: async (name, cpus) => {
              this.accounts.require(name);
              cpusets.set(name, cpus, cgroups.pids(name));
            },
          }
        : undefined;
  }

  async createAccount(name: string, accountClass: AccountClass, type?: string): Promise<AccountInfo> {
    const existing = this.accounts.existing(name, accountClass, type);
    if (existing) return existing;
    this.installShells();
    const info = await this.accounts.add(name, accountClass, type);
    if (accountClass === 'sliver' && this.cgroups) {
      const entry = this.accounts.require(name);
      this.cgroups.delegateTo(name, entry.uid, entry.gid);
    }
    return info;
  }

  async destroyAccount(name: string): Promise<void> {
    const entry = this.accounts.find(name);
    if (!entry) return;
    this.accounts.require(name); // never destroy an account slv does not manage
    await this.killAll(name, entry.uid);
    await this.bandwidth?.remove(entry.uid);
    await this.cgroups?.remove(name, true);
    await this.cpusets?.remove(name);
    for (const file of [this.path(initscriptPath(name)), this.markerPath(name), join(this.logDir, `${name}.log`)]) rmSync(file, { force: true });
    await this.accounts.remove(name);
  }

  async setInitscript(name: string, script: string): Promise<void> {
    this.accounts.require(name);
    if (script === '') rmSync(this.path(initscriptPath(name)), { force: true });
    else installFile(this.root, initscriptPath(name), script, 0o755);
  }

  /** Runs the init script (if any) as the account, inside the sliver's cgroup, detached. */
  async start(name: string): Promise<void> {
    const entry = this.accounts.require(name);
    if (existsSync(this.markerPath(name))) return;
    const script = this.path(initscriptPath(name));
    if (existsSync(script)) await this.runInitscript(name, entry, script);
    mkdirSync(this.path(RUN_DIR), { recursive: true });
    writeFileSync(this.markerPath(name), '');
  }

  async stop(name: string): Promise<void> {
    const entry = this.accounts.require(name);
    await this.killAll(name, entry.uid);
    rmSync(this.markerPath(name), { force: true });
  }

  async isRunning(name: string): Promise<boolean> {
    this.accounts.require(name);
    return existsSync(this.markerPath(name));
  }

  async applyLimits(name: string, rspec: RSpec): Promise<LimitReport> {
    const entry = this.accounts.require(name);
    const enabled = rspec.enabled !== 0;
    await this.accounts.setLoginEnabled(name, enabled);
    if (!enabled) await this.stop(name);
    const cpuKeys = ['cpu_min', 'cpu_share'] as const;
    let cpu: LimitReport;
    if (this.cgroups) {
      this.cgroups.apply(name, rspec);
      cpu = appliedReport(cpuKeys);
    } else cpu = unsupportedReport(cpuKeys, this.cgroupProblem ?? 'CPU limits not enforced');
    const diskProblem = await setDiskQuota(entry.uid, this.path(entry.home), rspec.disk_max);
    const disk = diskProblem ? unsupportedReport(['disk_max'], diskProblem) : appliedReport(['disk_max']);
    const net = await applyBandwidth(this.bandwidth, entry.uid, rspec);
    return mergeReports([appliedReport(['enabled']), cpu, disk, net]);
  }

  private path(inside: string): string {
    return this.accounts.path(inside);
  }

  private markerPath(name: string): string {
    return this.path(`${RUN_DIR}/${name}`);
  }

  private installShells(): void {
    if (this.shellsInstalled) return;
    installFile(this.root, LINUX_SHELLS.sliver, sliverShellScript(this.cgroups?.parent ?? '/nonexistent'), 0o755);
    installProgram(this.root, LINUX_SHELLS.delegate, this.delegateShellSource);
    registerShells(this.root, Object.values(LINUX_SHELLS));
    this.shellsInstalled = true;
  }

  private async killAll(name: string, uid: number): Promise<void> {
    await killAll(uid, () => this.cgroups?.pids(name) ?? []);
  }

  /**
   * A root shell joins the sliver's cgroup and sends its output to the log, then setpriv drops to
   * the account's uid/gid (numeric: a prefix root's accounts are unknown to the host) and execs the
   * script with `start`, as the original's vserver init did.
   */
  private async runInitscript(name: string, entry: PasswdEntry, script: string): Promise<void> {
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    const interpreter = readFileSync(script, 'utf8').startsWith('#!') ? [] : ['/bin/sh'];
    const joinCpuset = this.cpusets ? `{ [ ! -e ${shellQuote(this.cpusets.procsFile(name))} ] || echo $$ > ${shellQuote(this.cpusets.procsFile(name))}; } && ` : '';
    const joinCgroup = this.cgroups ? `echo $$ > ${shellQuote(this.cgroups.procsFile(name))} && ${joinCpuset}` : '';
    const home = this.path(entry.home);
    await startDetached(
      '/bin/sh',
      [
        '-c',
        `${joinCgroup}exec > "$0" 2>&1 && exec "$@"`,
        join(this.logDir, `${name}.log`),
        SETPRIV,
        '--reuid',
        String(entry.uid),
        '--regid',
        String(entry.gid),
        '--clear-groups',
        '--',
        ...interpreter,
        script,
        'start',
      ],
      { cwd: existsSync(home) ? home : '/', env: { HOME: home, USER: name, LOGNAME: name, SHELL: LINUX_SHELLS.sliver, PATH: '/usr/local/bin:/usr/bin:/bin' } },
    );
  }
}

export function createLinuxAdapter(options: LinuxAdapterOptions): LinuxAdapter {
  return new LinuxAdapter(options);
}
