// Failure behaviour figures for docs/failure.md:
// - SIGKILL during write load: a store written by 8 concurrent writers is killed 20 times at random
//   moments; acknowledged writes lost (goal 0) and the time to reopen and list it.
// - slvd restart after SIGKILL: from spawn to status.json `ready` on a data dir with the example node.
// - ENOSPC (root only: it mounts a 2 MB tmpfs, removed afterwards): writes fail with a clear 500
//   error, reads keep working, and writes work again once space is freed.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXAMPLE_PLC_FILE } from '../controller/daemon/config.js';
import { sliver } from '../adapters/store/conformance.js';
import { openSqliteStore } from '../adapters/store/sqlite.js';
import { SlvError } from '../resources/errors.js';
import { readStatus } from '../test/support/slvd-process.js';
import { report } from './report.js';

const BENCH = 'failure';
const KILLS = 20;
const RESTARTS = 5;
const WRITER = new URL('../test/support/store-crash-writer.ts', import.meta.url).pathname;
const MAIN = new URL('../controller/daemon/main.ts', import.meta.url).pathname;

async function killedWriters(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'slv-bench-kill-'));
  const file = join(dir, 'store.db');
  const acknowledged = new Set<string>();
  const reopenMs: number[] = [];
  let lost = 0;
  try {
    for (let round = 0; round < KILLS; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, `r${round}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      const killAfter = 50 + Math.floor(Math.random() * 400);
      let buffered = '';
      let acks = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines.filter(Boolean)) {
            acknowledged.add(line);
            if (++acks === killAfter) child.kill('SIGKILL');
          }
        });
        child.on('exit', () => resolve());
      });
      const started = performance.now();
      const store = openSqliteStore(file);
      const names = new Set((await store.list('Sliver')).items.map((s) => s.metadata.name));
      reopenMs.push(performance.now() - started);
      for (const name of acknowledged) if (!names.has(name)) lost++;
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  reopenMs.sort((a, b) => a - b);
  report(BENCH, 'sigkill_lost_writes', lost, 'writes', { kills: KILLS, acknowledged: acknowledged.size, goal: 0 });
  report(BENCH, 'sigkill_reopen_max', reopenMs.at(-1)!, 'ms', { median: Number(reopenMs[Math.floor(reopenMs.length / 2)]!.toFixed(1)) });
}

async function waitReady(dataDir: string, pid: number | undefined): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const status = readStatus(dataDir);
    if (status?.pid === pid && status?.ready) return;
    await sleep(20);
  }
  throw new Error('slvd did not become ready');
}

async function slvdRestarts(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slv-bench-restart-'));
  const args = ['--import', 'tsx', MAIN, '--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE, '--xmlrpc-port', '0', '--xmlrpc-socket', join(dataDir, 'sliver_mgr.api'), '--log-level', 'silent'];
  const times: number[] = [];
  try {
    for (let round = 0; round <= RESTARTS; round++) {
      const started = performance.now();
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      try {
        await waitReady(dataDir, child.pid);
        if (round > 0) times.push(performance.now() - started); // round 0 creates the store
      } finally {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  report(BENCH, 'sigkill_restart_to_ready_min', times[0]! / 1000, 's', { restarts: RESTARTS });
  report(BENCH, 'sigkill_restart_to_ready_max', times.at(-1)! / 1000, 's', { restarts: RESTARTS });
}

async function diskFull(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('failure bench: ENOSPC skipped (needs root to mount a 2 MB tmpfs)\n');
    return;
  }
  const mount = mkdtempSync(join(tmpdir(), 'slv-bench-enospc-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'slv-bench-enospc', mount]);
    try {
      const filler = join(mount, 'filler');
      writeFileSync(filler, Buffer.alloc(512 * 1024));
      const store = openSqliteStore(join(mount, 'store.db'));
      let acknowledged = 0;
      let failure: unknown;
      const initscript = 'x'.repeat(16 * 1024);
      while (failure === undefined && acknowledged < 10_000) {
        try {
          await store.create(sliver(`s${acknowledged}`, { initscript }));
          acknowledged++;
        } catch (error) {
          failure = error;
        }
      }
      const readsWork = (await store.list('Sliver')).items.length === acknowledged && (await store.get('Sliver', 's0')).metadata.name === 's0';
      unlinkSync(filler);
      let recovered = false;
      try {
        await store.create(sliver('after', { initscript }));
        recovered = true;
      } catch {
        recovered = false;
      }
      await store.close();
      const code = failure instanceof SlvError ? failure.code : 0;
      report(BENCH, 'enospc_write_answer', code, 'http', { acknowledgedBefore: acknowledged, message: (failure as Error | undefined)?.message.slice(0, 120), goal: 500 });
      report(BENCH, 'enospc_reads_work', readsWork ? 1 : 0, 'bool', { goal: 1 });
      report(BENCH, 'enospc_recovered_after_freeing', recovered ? 1 : 0, 'bool', { goal: 1 });
    } finally {
      execFileSync('umount', [mount]);
    }
  } finally {
    rmSync(mount, { recursive: true, force: true });
  }
}

await killedWriters();
await slvdRestarts();
await diskFull();
