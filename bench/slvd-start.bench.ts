// slvd with 10,000 stored slivers and 50,000 loans (as the PLC source stores them, no status yet):
// the compiled daemon (bin/slvd.js after scripts/build.mjs, the sim adapter, no PLC) is started once
// to every sliver Ready (the first start writes every status), stopped, and started again; the
// restart to status.json reporting every sliver Ready is the figure (goal < 2 s), with the
// daemon's RSS then and once it has been idle 5 s (goal < 150 MB, default heap: no V8 flags), and
// after 30 s idle beside it (V8 gives the burst's garbage back only after a minute or two idle). Wall times on a shared
// 2-core machine move with the load: the load average is printed beside each figure, and the
// daemon's own CPU time (from /proc) beside the wall time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStore } from '../adapters/store/sqlite.js';
import type { DaemonStatus } from '../controller/daemon/status-file.js';
import type { Loan, Sliver } from '../schemas/types.js';
import { loanInputs, loanObject, sliverObject } from './objects.js';
import { benchSlvdArgs, buildDist, checkout } from './compiled-slvd.js';
import { report } from './report.js';

const BENCH = 'slvd-start';
const SLIVERS = 10_000;
const LOANS_PER_SLIVER = 5;
const READY_GOAL_S = 2;
const RSS_GOAL_MB = 150;
const SETTLE_MS = 5_000;
const LONG_IDLE_MS = 30_000;
buildDist();

const dataDir = mkdtempSync(join(tmpdir(), 'slv-bench-slvd-start-'));
const store = openSqliteStore(join(dataDir, 'store.db'));
const objects: Array<Sliver | Loan> = [...Array.from({ length: SLIVERS }, (_, i) => sliverObject(i)), ...loanInputs(SLIVERS, LOANS_PER_SLIVER).map(loanObject)];
for (let i = 0; i < objects.length; i += 1024) await Promise.all(objects.slice(i, i + 1024).map((object) => store.create(object)));
await store.close();
objects.length = 0;

/** Resident set and CPU seconds of a process, from /proc. */
function processFigures(pid: number): { rssMb: number; cpuS: number } {
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces, so count after ')'.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: rssKb / 1024, cpuS: ticks / 100 };
}

function readStatus(): DaemonStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'status.json'), 'utf8')) as DaemonStatus;
  } catch {
    return undefined;
  }
}

interface Started {
  seconds: number;
  load1: number;
  daemon: ChildProcess;
}

/** Spawn slvd on the data dir and wait until status.json reports every sliver Ready. */
async function startToReady(): Promise<Started> {
  const load1 = loadavg()[0]!;
  const start = performance.now();
  const daemon = spawn(process.execPath, [checkout('bin/slvd.js'), ...benchSlvdArgs(dataDir), '--adapter', 'sim', '--no-plc'], { stdio: 'inherit' });
  for (;;) {
    const status = readStatus();
    if (status !== undefined && status.pid === daemon.pid && status.ready && status.slivers.ready === SLIVERS) return { seconds: (performance.now() - start) / 1000, load1, daemon };
    if (daemon.exitCode !== null) throw new Error(`slvd exited (${daemon.exitCode}) before every sliver was Ready`);
    if (performance.now() - start > 600_000) {
      daemon.kill('SIGKILL');
      throw new Error(`slvd did not report ${SLIVERS} slivers Ready in 600 s: ${JSON.stringify(status?.slivers)}`);
    }
    await sleep(20);
  }
}

async function stop(daemon: ChildProcess): Promise<void> {
  if (daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
}

const common = { loans: SLIVERS * LOANS_PER_SLIVER, note: 'compiled slvd, sim adapter, no PLC; status.json polled every 20 ms' };
try {
  // The first start reconciles everything: every account created, every Sliver and Loan status written.
  const first = await startToReady();
  report(BENCH, 'slvd_first_start_to_ready_10000_slivers_no_status', first.seconds, 's', { ...common, daemon_cpu_s: processFigures(first.daemon.pid!).cpuS, load1: first.load1 });
  await stop(first.daemon);
  // The restart: stored specs and statuses, accounts in place.
  const restart = await startToReady();
  const atReady = processFigures(restart.daemon.pid!);
  report(BENCH, 'slvd_restart_to_ready_10000_stored_slivers', restart.seconds, 's', {
    ...common,
    goal: `< ${READY_GOAL_S} s`,
    daemon_cpu_s: atReady.cpuS,
    load1: restart.load1,
    load1_after: loadavg()[0],
  });
  await sleep(SETTLE_MS);
  const settled = processFigures(restart.daemon.pid!);
  await sleep(LONG_IDLE_MS - SETTLE_MS);
  const idle = processFigures(restart.daemon.pid!);
  report(BENCH, 'slvd_rss_10000_slivers_50000_loans', settled.rssMb, 'MB', {
    goal: `< ${RSS_GOAL_MB} MB`,
    rss_at_ready_mb: Number(atReady.rssMb.toFixed(1)),
    settled_after_s: SETTLE_MS / 1000,
    [`rss_after_${LONG_IDLE_MS / 1000}_s_idle_mb`]: Number(idle.rssMb.toFixed(1)),
    load1: loadavg()[0],
    note: 'the restarted compiled daemon, default heap',
  });
  await stop(restart.daemon);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
