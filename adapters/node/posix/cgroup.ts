// CPU limits with cgroups: one cgroup per sliver under a configurable parent, v1 (`cpu` hierarchy:
// cpu.shares, cpu.cfs_quota_us/cpu.cfs_period_us) or v2 (cpu.weight, cpu.max), detected from the
// filesystem the parent lives on.
import { chownSync, existsSync, mkdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeError, UnavailableError } from '../../../resources/errors.js';
import { CPU_GUARANTEE_THRESHOLD } from '../../../resources/rspec.js';
import type { RSpec } from '../../../schemas/types.js';
import { killQuietly } from './processes.js';

export type CgroupVersion = 1 | 2;

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;
const V1_CPU_ROOT = '/sys/fs/cgroup/cpu';
const V2_ROOT = '/sys/fs/cgroup';
export const CFS_PERIOD_US = 100_000;
/** The smallest quota the kernel accepts: 1 % of a CPU, what a disabled sliver keeps. */
const CFS_MIN_QUOTA_US = 1_000;
/** The largest quota the kernel accepts (2^44 - 1 µs); loans can add up to more than one sliver's range. */
const CFS_MAX_QUOTA_US = 2 ** 44 - 1;
/** cpu_share 32 (the default) maps to the kernel's default weight: 1024 shares (v1), 100 (v2). */
const DEFAULT_SHARE = 32;
/** How long destroying a sliver waits for its killed processes to leave the cgroup. */
const CGROUP_EMPTY_WAIT_MS = 5_000;
const CGROUP_EMPTY_POLL_MS = 20;

/** The default parent: `slv` under the v1 cpu hierarchy when mounted, else under the v2 root. */
export function defaultCgroupParent(): string {
  return existsSync(join(V1_CPU_ROOT, 'cpu.shares')) ? join(V1_CPU_ROOT, 'slv') : join(V2_ROOT, 'slv');
}

/** The cgroup version of the filesystem `path` is (or would be created) on; undefined if not a cgroup fs. */
export function cgroupVersionAt(path: string): CgroupVersion | undefined {
  let existing = path;
  while (!existsSync(existing)) existing = dirname(existing);
  const type = statfsSync(existing).type;
  if (type === CGROUP_SUPER_MAGIC) return 1;
  if (type === CGROUP2_SUPER_MAGIC) return 2;
  return undefined;
}

/**
 * The cgroup files (in write order) for an rspec. One weight drives both versions: the guarantee
 * cpu_min when it is at least 50, else cpu_share. A guarantee is also a CFS bandwidth reservation of
 * cpu_min/1000 of a CPU (the rate the VServer token bucket gave it); a disabled sliver keeps the
 * least the kernel allows (it is stopped as well).
 */
export function cpuFiles(version: CgroupVersion, rspec: Pick<RSpec, 'enabled' | 'cpu_min' | 'cpu_share'>): Array<[file: string, value: string]> {
  const disabled = rspec.enabled === 0;
  const guaranteed = rspec.cpu_min >= CPU_GUARANTEE_THRESHOLD;
  const weight = guaranteed ? rspec.cpu_min : rspec.cpu_share;
  const quotaUs = disabled ? CFS_MIN_QUOTA_US : guaranteed ? clamp(rspec.cpu_min * (CFS_PERIOD_US / 1000), CFS_MIN_QUOTA_US, CFS_MAX_QUOTA_US) : undefined;
  if (version === 1) {
    return [
      ['cpu.shares', String(disabled ? 2 : clamp(Math.round((weight * 1024) / DEFAULT_SHARE), 2, 262_144))],
      ['cpu.cfs_period_us', String(CFS_PERIOD_US)],
      ['cpu.cfs_quota_us', String(quotaUs ?? -1)],
    ];
  }
  return [
    ['cpu.weight', String(disabled ? 1 : clamp(Math.round((weight * 100) / DEFAULT_SHARE), 1, 10_000))],
    ['cpu.max', `${quotaUs ?? 'max'} ${CFS_PERIOD_US}`],
  ];
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export class CpuCgroups {
  readonly parent: string;
  readonly version: CgroupVersion;

  constructor(parent: string) {
    const version = cgroupVersionAt(parent);
    if (version === undefined) throw new NodeError(`cgroup parent ${parent} is not on a cgroup filesystem`);
    this.parent = parent;
    this.version = version;
  }

  path(name: string): string {
    return join(this.parent, name);
  }

  /** Create the sliver's cgroup (and the parent) and write its CPU files. */
  apply(name: string, rspec: RSpec): void {
    const dir = this.ensure(name);
    for (const [file, value] of cpuFiles(this.version, rspec)) writeFileSync(join(dir, file), value);
  }

  /** Let the account move its own processes in (its login shell joins on v1; v2 forbids it anyway). */
  delegateTo(name: string, uid: number, gid: number): void {
    const dir = this.ensure(name);
    for (const file of this.version === 1 ? ['cgroup.procs', 'tasks'] : ['cgroup.procs']) chownSync(join(dir, file), uid, gid);
  }

  /** The `cgroup.procs` file a starter writes its own pid into. */
  procsFile(name: string): string {
    return join(this.ensure(name), 'cgroup.procs');
  }

  pids(name: string): number[] {
    const file = join(this.path(name), 'cgroup.procs');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  }

  read(name: string, file: string): string {
    return readFileSync(join(this.path(name), file), 'utf8').trim();
  }

  /**
   * Remove the sliver's cgroup; absent is fine. Killed processes leave the cgroup only once the
   * kernel has finished them, so a busy cgroup is waited for (bounded) before it counts as an error.
   * With `killLeft` (a destroy, which already killed the sliver's processes), whatever is still
   * listed meanwhile is killed again: a process that joined the cgroup just after that kill (a
   * start racing the destroy) was not in the list it read.
   */
  async remove(name: string, killLeft = false): Promise<void> {
    const dir = this.path(name);
    const deadline = Date.now() + CGROUP_EMPTY_WAIT_MS;
    for (;;) {
      try {
        rmdirSync(dir);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY') throw error;
        if (Date.now() >= deadline) {
          const left = this.pids(name);
          throw new UnavailableError(
            `cgroup ${dir} is still busy ${CGROUP_EMPTY_WAIT_MS / 1000} s after its processes were killed; pids left: ${left.length ? left.join(', ') : 'none listed (exiting)'}`,
            { cause: error },
          );
        }
      }
      if (killLeft) for (const pid of this.pids(name)) killQuietly(pid);
      await sleep(CGROUP_EMPTY_POLL_MS);
    }
  }

  private ensure(name: string): string {
    if (!existsSync(this.parent)) {
      mkdirSync(this.parent, { recursive: true });
      // v2 hands a controller to children only when every ancestor enables it for its subtree.
      if (this.version === 2) for (const dir of [dirname(this.parent), this.parent]) writeFileSync(join(dir, 'cgroup.subtree_control'), '+cpu');
    }
    const dir = this.path(name);
    if (!existsSync(dir)) mkdirSync(dir);
    return dir;
  }
}
