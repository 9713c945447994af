// Whole-core scheduling on the real cgroup v1 cpuset hierarchy: a sliver's cpuset takes the CPUs
// it is given, its running processes are moved in, a process joining through procsFile is held to
// them, and removal leaves nothing behind. A parent of its own per run, removed even on failure.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CpusetCgroups, V1_CPUSET_ROOT, defaultCpusetParent } from '../../../../adapters/node/posix/cpuset.js';
import { parseCpuList } from '../../../../resources/cpu-cores.js';
import { registerCleanup } from '../../../support/host-cleanup.js';
import { needs } from '../../../support/host-needs.js';

const SKIP = needs('cgroup v1 cpusets') || (defaultCpusetParent() === undefined ? `needs the cgroup v1 cpuset hierarchy at ${V1_CPUSET_ROOT}` : false);
const parent = join(V1_CPUSET_ROOT, `slv-test-${process.pid}-${randomBytes(3).toString('hex')}`);
const children: ChildProcess[] = [];
const SLIVER = 'site_pinned';

// Registered before anything exists: processes killed, the sliver's cpuset and the parent removed.
const cleanup = registerCleanup(`cpuset ${parent}`, async () => {
  for (const child of children) child.kill('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const dir of [join(parent, SLIVER), parent]) {
    try {
      rmdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
});
after(cleanup);

function allowedCpus(pid: number): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Cpus_allowed_list:\s*(\S+)$/m);
  return parseCpuList(line![1]!);
}

function sleeper(command: string[]): ChildProcess {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'ignore' });
  children.push(child);
  return child;
}

test("a sliver's cpuset holds its processes to its CPUs; removal leaves nothing", { skip: SKIP }, async () => {
  const cpusets = new CpusetCgroups(parent);
  const all = cpusets.available();
  assert.deepEqual(all, parseCpuList(readFileSync(join(V1_CPUSET_ROOT, 'cpuset.cpus'), 'utf8')));
  const last = all[all.length - 1]!;

  const running = sleeper(['sleep', '60']);
  cpusets.set(SLIVER, [last], [running.pid!]);
  assert.deepEqual(cpusets.cpus(SLIVER), [last]);
  assert.deepEqual(allowedCpus(running.pid!), [last], 'the running process was moved onto the one CPU');

  // A process of the sliver that is gone by now is no error.
  cpusets.set(SLIVER, all, [running.pid!, 2 ** 22 + 1]);
  assert.deepEqual(allowedCpus(running.pid!), all, 'given every CPU again');

  cpusets.set(SLIVER, [last], []);
  const joined = sleeper(['/bin/sh', '-c', `echo $$ > ${cpusets.procsFile(SLIVER)} && exec sleep 60`]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(allowedCpus(joined.pid!), [last], 'a process that joined through procsFile');

  for (const child of children) child.kill('SIGKILL');
  await cpusets.remove(SLIVER);
  assert.equal(existsSync(join(parent, SLIVER)), false);
});
