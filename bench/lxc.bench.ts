// LXC adapter figures: how fast slvd can bring up containers, and what an idle sliver costs once
// its container runs, all containers over one shared busybox image (built here) in a temporary
// root prefix and lxc path. Memory is PSS (shared pages split between the processes sharing them)
// of each container's processes plus its LXC monitor; disk is what the sliver's directory holds
// beside the shared image (config, log, upper and work layers). Needs root and LXC; prints a note
// and no figures otherwise. Goals: 100 slivers up within two minutes of boot (≥ 1 container/s),
// and 100 idle slivers in well under a GiB of memory and a small fraction of one image on disk.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_IMAGE } from '../adapters/node/lxc/index.js';
import { rootfsPaths } from '../adapters/node/lxc/rootfs.js';
import { lxcCleanup, makeImageDir, makeLxcNode, SKIP_LXC } from '../test/support/lxc.js';
import { removeTestRoots } from '../test/support/test-roots.js';
import { report } from './report.js';

const BENCH = 'lxc';
const SLIVERS = 20;
const IDLE_SETTLE_MS = 2_000;

/** Every pid in a cgroup directory and the cgroups below it. */
function pidsIn(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  return [
    ...own,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => pidsIn(join(dir, e.name))),
  ];
}

/** Proportional set size of a process in KiB (0 if it is gone). */
function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** KiB on disk of `paths` together. */
function diskKiB(paths: string[]): number {
  const total = execFileSync('du', ['-skc', ...paths], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  return Number(total.split('\t')[0]);
}

/** A sliver's own files: its container directory but the mount points of the image view and the merged root (the image is shared; a bind mount keeps its device, so `du -x` would count it). */
function sliverOwnFiles(containerDir: string): string[] {
  const { lower, merged } = rootfsPaths(containerDir);
  return readdirSync(containerDir)
    .map((entry) => join(containerDir, entry))
    .filter((path) => path !== lower && path !== merged);
}

if (SKIP_LXC) {
  process.stderr.write(`bench/lxc: skipped, ${SKIP_LXC}\n`);
} else {
  const cleanup = lxcCleanup();
  const node = makeLxcNode('bench', makeImageDir('bench-lxc-images', cleanup), cleanup);
  const { adapter } = node;
  const names = Array.from({ length: SLIVERS }, (_, i) => `pl_lxc${i}`);
  try {
    for (const name of names) await adapter.createAccount(name, 'sliver');
    const start = performance.now();
    for (const name of names) await adapter.start(name);
    const seconds = (performance.now() - start) / 1000;
    report(BENCH, 'containers_started_per_second', SLIVERS / seconds, 'containers/s', { slivers: SLIVERS, sequential: true, goal: 1 });

    await sleep(IDLE_SETTLE_MS);
    const pids = names.flatMap((name) => [...pidsIn(join(node.cgroupParent, name)), ...pidsIn(join(`${node.cgroupParent}.monitor`, name))]);
    const pss = pids.reduce((sum, pid) => sum + pssKiB(pid), 0);
    report(BENCH, 'idle_sliver_memory_pss', pss / SLIVERS / 1024, 'MiB/sliver', {
      slivers: SLIVERS,
      processesPerSliver: pids.length / SLIVERS,
      includes: 'container processes + LXC monitor',
      goal: 5,
    });
    const imageKiB = diskKiB([join(node.imageDir, DEFAULT_IMAGE)]);
    const disk = names.map((name) => diskKiB(sliverOwnFiles(adapter.containerDir(name))));
    report(BENCH, 'idle_sliver_disk', disk.reduce((a, b) => a + b, 0) / SLIVERS, 'KiB/sliver', { slivers: SLIVERS, sharedImageKiB: imageKiB, goal: 256 });
  } finally {
    for (const name of names) await adapter.destroyAccount(name).catch((error: unknown) => process.stderr.write(`bench/lxc: destroying ${name}: ${(error as Error).message}\n`));
    await adapter.close();
    await cleanup.run();
    await removeTestRoots();
  }
}
