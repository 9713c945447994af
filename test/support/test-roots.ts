// Test nodes for the OS adapters: a temporary filesystem root with a minimal etc/ (root only), a
// uid range of its own, and a test cgroup parent; everything is removed (processes killed first).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CpuCgroups, defaultCgroupParent } from '../../adapters/node/posix/cgroup.js';
import type { BandwidthLimiter, BandwidthLimits, SentBytes } from '../../adapters/node/contract.js';
import { registerCleanup } from './host-cleanup.js';
import { needs } from './host-needs.js';

/** The `skip` of tests that use test roots. */
export const SKIP_TEST_ROOTS = needs('useradd --prefix, cgroups, setuid');

export interface TestRoot {
  root: string;
  dataDir: string;
  /** uids this root hands out; no other test uses them. */
  uidRange: { min: number; max: number };
  cgroupParent: string;
}

/** Each root's release of its registered cleanup, in creation order. */
const releases: Array<() => Promise<void>> = [];

// Test files run in parallel processes, and stopping a sliver kills everything its uid runs: each
// label (one per test file) owns a disjoint block of uids, each root 100 of them.
// Blocks of 4,000 uids per label. 62,000-62,199 is taken by test/root/e2e/ssh-delegate-daemon.test.ts
// and lxc-ssh-daemon.test.ts (host accounts, not test roots): keep new blocks clear of it.
const UID_BLOCKS: Record<string, number> = { lxc: 29_000, 'e2e-lxc': 33_000, 'e2e-lxc-bw': 37_000, linux: 41_000, vserver: 45_000, bench: 49_000, 'e2e-linux': 53_000, 'e2e-bwlimit': 57_000 };
const UIDS_PER_ROOT = 100;
const ROOTS_PER_BLOCK = 40;
let rootsMade = 0;

/**
 * A world-readable temp root (processes run as its accounts must reach it) with etc/ seeded. With
 * `loginDefs`, <root>/etc/login.defs gives useradd the root's uid range and user groups (tools
 * that run useradd themselves, like vuseradd, pass no range of their own).
 */
export function makeTestRoot(label: string, options: { loginDefs?: boolean } = {}): TestRoot {
  const block = UID_BLOCKS[label];
  if (block === undefined || rootsMade >= ROOTS_PER_BLOCK) throw new Error(`no uid block left for test roots labelled "${label}"`);
  const min = block + rootsMade++ * UIDS_PER_ROOT;
  const base = mkdtempSync(`/tmp/slv-${label}-`);
  const testRoot: TestRoot = {
    root: join(base, 'root'),
    dataDir: join(base, 'data'),
    uidRange: { min, max: min + UIDS_PER_ROOT - 1 },
    cgroupParent: join(defaultCgroupParent(), '..', `slv-test-${base.split('-').pop()}`),
  };
  // Before anything runs as its accounts or its cgroups exist.
  releases.push(registerCleanup(`test root ${base}`, () => removeTestRoot(testRoot)));
  chmodSync(base, 0o755);
  const { root, dataDir } = testRoot;
  mkdirSync(join(root, 'etc'), { recursive: true, mode: 0o755 });
  mkdirSync(join(root, 'home'), { mode: 0o755 });
  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n', { mode: 0o644 });
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n', { mode: 0o644 });
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
  if (options.loginDefs) {
    const defs = { UID_MIN: min, UID_MAX: min + UIDS_PER_ROOT - 1, GID_MIN: min, GID_MAX: min + UIDS_PER_ROOT - 1, USERGROUPS_ENAB: 'yes' };
    writeFileSync(
      join(root, 'etc/login.defs'),
      Object.entries(defs)
        .map(([key, value]) => `${key} ${value}\n`)
        .join(''),
      { mode: 0o644 },
    );
  }
  return testRoot;
}

/** Kill what the root's accounts still run, remove its cgroups (once the killed have left) and files. */
async function removeTestRoot({ root, uidRange, cgroupParent }: TestRoot): Promise<void> {
  const uids = Array.from({ length: uidRange.max - uidRange.min + 1 }, (_, i) => uidRange.min + i);
  try {
    execFileSync('/usr/bin/pkill', ['-KILL', '-U', uids.join(',')], { stdio: 'ignore' });
  } catch {
    // exit 1: nothing ran as those uids
  }
  if (existsSync(cgroupParent)) {
    const cgroups = new CpuCgroups(cgroupParent);
    for (const child of readdirSync(cgroupParent, { withFileTypes: true })) {
      if (!child.isDirectory()) continue;
      // A starter still root between joining the cgroup and dropping to the account escapes pkill -U.
      for (const pid of cgroups.pids(child.name)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
      await cgroups.remove(child.name);
    }
    rmdirSync(cgroupParent);
  }
  rmSync(join(root, '..'), { recursive: true, force: true });
}

/** Remove every test root this process made; one that cannot be removed does not keep the others. */
export async function removeTestRoots(): Promise<void> {
  const results = await Promise.allSettled(releases.splice(0).map((release) => release()));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
  if (failures.length > 0) throw new Error(`test roots not removed: ${failures.join('; ')}`);
}

/** Hashes of the host's account files, to show a test left them alone. */
export function hostEtcHashes(): Record<string, string> {
  const files = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/shells'];
  return Object.fromEntries(files.filter((file) => existsSync(file)).map((file) => [file, `${createHash('sha256').update(readFileSync(file)).digest('hex')} ${statSync(file).mtimeMs}`]));
}

/** A faithful test double for the bwlimit adapter: it records what it is asked to do. */
export class RecordingBandwidthLimiter implements BandwidthLimiter {
  readonly classes = new Map<number, BandwidthLimits>();
  /** What sentBytes answers: tests set the counters the kernel would show. */
  readonly sent = new Map<number, SentBytes>();
  async sentBytes(): Promise<Map<number, SentBytes>> {
    return new Map([...this.sent].map(([uid, bytes]) => [uid, { ...bytes }]));
  }
  nodeCap: number | undefined;
  async setNodeCap(bitsPerSecond: number | undefined): Promise<void> {
    this.nodeCap = bitsPerSecond;
  }
  async set(uid: number, limits: BandwidthLimits): Promise<void> {
    this.classes.set(uid, { ...limits });
  }
  async remove(uid: number): Promise<void> {
    this.classes.delete(uid);
  }
  async list(): Promise<number[]> {
    return [...this.classes.keys()];
  }
  async close(): Promise<void> {}
}

/** The pids running as `uid` right now. */
export function pidsOf(uid: number): number[] {
  try {
    return execFileSync('/usr/bin/pgrep', ['-U', String(uid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // exit 1: none
  }
}

/** Wait (at most ~5 s) until `check` holds, for what background processes do; no timing is asserted. */
export async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(25);
}

/** Wait for a file a background process writes, and read it. */
export async function waitForFile(file: string): Promise<string> {
  await waitUntil(() => existsSync(file));
  return readFileSync(file, 'utf8');
}
