// LXC test nodes: a busybox image built at test time, the lxc adapter over a test root (its own
// uid block, so its own container id ranges), and a cleanup that undoes everything such a node can
// leave on the host: running containers, mounts, /etc/subuid and /etc/subgid lines, cgroups in
// every hierarchy (LXC makes <parent>, <parent>.monitor and lxc.pivot). Each part is registered
// (test/support/host-cleanup.ts) before it is created, so an interrupted run undoes it too.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createLxcAdapter, DEFAULT_IMAGE, type LxcAdapter, type LxcAdapterOptions } from '../../adapters/node/lxc/index.js';
import { containerIdRange, subidLine, withSubidLine } from '../../adapters/node/lxc/ids.js';
import { mountPointOf, mountPoints } from '../../adapters/node/posix/mounts.js';
import { registerCleanup } from './host-cleanup.js';
import { needs } from './host-needs.js';
import { makeTestRoot, type TestRoot } from './test-roots.js';

export const BUSYBOX = '/bin/busybox';
const CGROUP_ROOT = '/sys/fs/cgroup';

/** The `skip` of tests that run containers; the image needs a static busybox at BUSYBOX. */
export const SKIP_LXC = needs('LXC containers, /etc/subuid, cgroups', 'lxc-start', 'newuidmap') || (existsSync(BUSYBOX) ? false : `needs ${BUSYBOX}: apt-get install busybox-static`);

/**
 * A minimal image: busybox and its applets, root in passwd, and an inittab whose init only reaps
 * (the adapter runs the init script itself).
 */
export function buildBusyboxImage(dir: string): void {
  for (const sub of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var/log', 'usr/bin', 'usr/sbin']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
  chmodSync(join(dir, 'tmp'), 0o1777);
  chmodSync(join(dir, 'root'), 0o700);
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const applet of execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (!existsSync(join(dir, applet))) symlinkSync('/bin/busybox', join(dir, applet));
  }
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'etc/inittab'), '::sysinit:/bin/true\n');
}

export interface LxcTestNode extends TestRoot {
  lxcPath: string;
  imageDir: string;
  adapter: LxcAdapter;
}

/** The lxc adapter on a fresh test root, tracked by `cleanup`; the image dir may be shared between nodes. */
export function makeLxcNode(label: string, imageDir: string, cleanup: LxcCleanup, options: Partial<LxcAdapterOptions> = {}): LxcTestNode {
  const root = makeTestRoot(label);
  const lxcPath = join(root.root, '..', 'lxc');
  cleanup.track(lxcPath, root.uidRange, root.cgroupParent);
  mkdirSync(lxcPath, { mode: 0o755 });
  const adapter = createLxcAdapter({ root: root.root, cgroupParent: root.cgroupParent, uidRange: root.uidRange, lxcPath, imageDir, ...options });
  return { ...root, lxcPath, imageDir, adapter };
}

/** A temp dir `/tmp/slv-LABEL-XXXXXX` holding the busybox image as `default` (removed by `cleanup`). */
export function makeImageDir(label: string, cleanup: LxcCleanup): string {
  let scratch: string | undefined;
  cleanup.add(`lxc image dir of ${label}`, () => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  scratch = mkdtempSync(`/tmp/slv-${label}-`);
  const imageDir = join(scratch, 'images');
  buildBusyboxImage(join(imageDir, DEFAULT_IMAGE));
  return imageDir;
}

/** A test root for slvd --adapter lxc: its lxc path (tracked by `cleanup`) and a busybox image dir beside it. */
export function makeLxcDaemonRoot(label: string, cleanup: LxcCleanup): TestRoot & { lxcPath: string; imageDir: string } {
  const node = makeTestRoot(label);
  const lxcPath = join(node.root, '..', 'lxc');
  cleanup.track(lxcPath, node.uidRange, node.cgroupParent);
  const imageDir = join(node.root, '..', 'images');
  buildBusyboxImage(join(imageDir, DEFAULT_IMAGE));
  return { ...node, lxcPath, imageDir };
}

/**
 * slvd's config file for an lxc node (`root` may differ from the test root's, e.g. `/`): the
 * adapter's settings, PLC answers from `plcFile` and every sliver started at once; `extra` lines follow.
 */
export function lxcSlvdConfig(node: { root: string; cgroupParent: string; uidRange: { min: number; max: number }; lxcPath: string; imageDir: string }, plcFile: string, extra: string[] = []): string {
  return [
    'adapter: lxc',
    `root: ${node.root}`,
    `cgroupParent: ${node.cgroupParent}`,
    `uidRange: {min: ${node.uidRange.min}, max: ${node.uidRange.max}}`,
    `plcFile: ${plcFile}`,
    'period: 3600',
    'startup: true',
    'stagger: 0',
    ...extra,
    '',
  ].join('\n');
}

function run(file: string, args: string[]): void {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

export interface LxcCleanup {
  /** Register the undoing of an lxc node (containers under `lxcPath`, its subid lines and cgroups); call before creating it. */
  track(lxcPath: string, uidRange: { min: number; max: number }, cgroupParent: string): void;
  /** Register another cleanup of the same run (released by run(), newest first). */
  add(what: string, cleanup: () => unknown): void;
  /** Undo everything tracked, newest first; lxc.pivot last, when it was not there before. */
  run(): Promise<void>;
}

/**
 * One per test file, made before any lxc node: it records which hierarchies already had
 * lxc.pivot and registers its removal first, so that it runs after every node's cleanup, also when
 * the run is interrupted. Each node's cleanup stops its containers, undoes their mounts, removes
 * the subid lines of its uid range and the cgroup dirs LXC makes for its parent in every hierarchy.
 */
export function lxcCleanup(): LxcCleanup {
  const hierarchies = readdirSync(CGROUP_ROOT)
    .map((h) => join(CGROUP_ROOT, h))
    .filter((h) => mountPoints().includes(h));
  const pivotsBefore = new Set(hierarchies.filter((h) => existsSync(join(h, 'lxc.pivot'))));
  const releases = [
    registerCleanup('lxc.pivot cgroups', () => {
      for (const hierarchy of hierarchies) if (!pivotsBefore.has(hierarchy)) removeCgroupTree(join(hierarchy, 'lxc.pivot'));
    }),
  ];
  const add = (what: string, cleanup: () => unknown) => void releases.push(registerCleanup(what, cleanup));
  return {
    track(lxcPath, uidRange, cgroupParent) {
      add(`lxc node ${lxcPath}`, () => {
        if (existsSync(lxcPath)) for (const name of readdirSync(lxcPath)) run('/usr/bin/lxc-stop', ['-P', lxcPath, '-n', name, '-k']);
        for (const mount of mountPoints()
          .filter((m) => m.startsWith(`${lxcPath}/`))
          .sort((a, b) => b.length - a.length))
          run('/usr/bin/umount', ['-l', mount]);
        for (const file of ['/etc/subuid', '/etc/subgid']) {
          const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
          let next = text;
          for (let xid = uidRange.min; xid <= uidRange.max; xid++) next = withSubidLine(next, subidLine(containerIdRange(xid, 0)), false);
          if (next !== text) writeFileSync(file, next);
        }
        const rel = relative(mountPointOf(cgroupParent), cgroupParent);
        for (const hierarchy of hierarchies) for (const dir of [rel, `${rel}.monitor`]) removeCgroupTree(join(hierarchy, dir));
      });
    },
    add,
    async run() {
      for (let release = releases.pop(); release; release = releases.pop()) await release();
    },
  };
}

function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) removeCgroupTree(join(dir, child.name));
  try {
    rmdirSync(dir);
  } catch {
    // still busy: reported by the test that checks the host afterwards
  }
}
