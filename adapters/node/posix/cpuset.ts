// Whole-core scheduling with the cgroup v1 cpuset hierarchy: one cpuset cgroup per sliver under a
// parent (default `slv` under /sys/fs/cgroup/cpuset), holding the sliver's CPUs. The sliver's
// processes are the ones in its CPU cgroup: each `set` moves them in, so processes started since
// (a login) follow at the next one.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NodeError } from '../../../resources/errors.js';
import { formatCpuList, parseCpuList } from '../../../resources/cpu-cores.js';
import { CpuCgroups } from './cgroup.js';

export const V1_CPUSET_ROOT = '/sys/fs/cgroup/cpuset';

/** The default parent when the v1 cpuset hierarchy is mounted; undefined when it is not. */
export function defaultCpusetParent(): string | undefined {
  return existsSync(join(V1_CPUSET_ROOT, 'cpuset.cpus')) ? join(V1_CPUSET_ROOT, 'slv') : undefined;
}

function readTrimmed(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

export class CpusetCgroups {
  /** The per-sliver directories (paths, process lists, removal) are handled as for CPU cgroups. */
  private readonly groups: CpuCgroups;

  constructor(readonly parent: string) {
    this.groups = new CpuCgroups(parent);
    if (this.groups.version !== 1 || !existsSync(join(dirname(parent), 'cpuset.cpus'))) {
      throw new NodeError(`cpuset parent ${parent} is not in a cgroup v1 cpuset hierarchy (its parent has no cpuset.cpus)`);
    }
  }

  /** The CPUs the parent's own parent may use: what slivers can be given. */
  available(): number[] {
    return parseCpuList(readTrimmed(join(dirname(this.parent), 'cpuset.cpus')));
  }

  /** Pin the sliver to `cpus` and move `pids` (its processes) into its cpuset. A process gone meanwhile is fine. */
  set(name: string, cpus: readonly number[], pids: readonly number[]): void {
    this.ensureParent();
    const dir = this.groups.path(name);
    mkdirSync(dir, { recursive: true });
    // A cpuset takes processes only once it has memory nodes; the sliver gets all of the parent's.
    if (readTrimmed(join(dir, 'cpuset.mems')) === '') writeFileSync(join(dir, 'cpuset.mems'), readTrimmed(join(this.parent, 'cpuset.mems')));
    const wanted = formatCpuList(cpus);
    if (readTrimmed(join(dir, 'cpuset.cpus')) !== wanted) writeFileSync(join(dir, 'cpuset.cpus'), wanted);
    for (const pid of pids) {
      try {
        writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }

  /** The sliver's CPUs as the kernel holds them; undefined when it has no cpuset. */
  cpus(name: string): number[] | undefined {
    const file = join(this.groups.path(name), 'cpuset.cpus');
    return existsSync(file) ? parseCpuList(readTrimmed(file)) : undefined;
  }

  /** The `cgroup.procs` file a starter writes its own pid into, when the sliver has a cpuset. */
  procsFile(name: string): string {
    return join(this.groups.path(name), 'cgroup.procs');
  }

  /** Remove the sliver's cpuset (after its processes were killed); absent is fine. */
  remove(name: string): Promise<void> {
    return this.groups.remove(name, true);
  }

  /** A new cpuset starts empty: the parent takes all CPUs and memory nodes of its own parent. */
  private ensureParent(): void {
    mkdirSync(this.parent, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readTrimmed(join(this.parent, file)) === '') writeFileSync(join(this.parent, file), readTrimmed(join(dirname(this.parent), file)));
    }
  }
}
