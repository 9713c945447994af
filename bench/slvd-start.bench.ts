// slvd with 10,000 stored slivers, as the PLC source stores them (no status yet), first without
// loans (the figure: 10,000 stored slivers to Ready) and then with 50,000 loans among them:
// the compiled daemon (bin/slvd.js after scripts/build.mjs, the sim adapter, no PLC) is started once
// to every sliver Ready (the first start writes every status), stopped, and restarted three times;
// each restart to status.json reporting every sliver Ready is timed (goal < 2 s; the median is the
// figure, every run beside it). With the loans, the last restart's RSS once it has been idle 150 s
// (goal < 150 MB, default heap: no V8 flags), with the RSS at Ready and after 5, 30 and 90 s idle
// beside it. Wall times on a shared 2-core machine move with the load: the load average is printed
// beside each figure, and the daemon's own CPU time (from /proc) beside the wall time.
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
const RESTARTS = 3;
/** When the idle daemon's RSS is sampled on the way to the figure. */
const IDLE_SAMPLES_MS = [5_000, 30_000, 90_000];
/** The figure's idle time: V8's memory reducer has run by then (~100 s after the last GC). */
const IDLE_MS = 150_000;
buildDist();

/** Resident set (all, and the part mapped from files: the node binary and libraries) and CPU seconds of a process, from /proc. */
function processFigures(pid: number): { rssMb: number; rssFileMb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces, so count after ')'.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: kb('VmRSS') / 1024, rssFileMb: kb('RssFile') / 1024, cpuS: ticks / 100 };
}

function readStatus(dataDir: string): DaemonStatus | undefined {
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

/** A data dir holding SLIVERS slivers and `loansPerSliver` loans from each, as the PLC source stores them. */
async function storedSpecs(loansPerSliver: number): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slv-bench-slvd-start-'));
  const store = openSqliteStore(join(dataDir, 'store.db'));
  const objects: Array<Sliver | Loan> = [...Array.from({ length: SLIVERS }, (_, i) => sliverObject(i)), ...loanInputs(SLIVERS, loansPerSliver).map(loanObject)];
  for (let i = 0; i < objects.length; i += 1024) await Promise.all(objects.slice(i, i + 1024).map((object) => store.create(object)));
  await store.close();
  return dataDir;
}

/** Spawn slvd on the data dir and wait until status.json reports every sliver Ready. */
async function startToReady(dataDir: string): Promise<Started> {
  const load1 = loadavg()[0]!;
  const start = performance.now();
  const daemon = spawn(process.execPath, [checkout('bin/slvd.js'), ...benchSlvdArgs(dataDir), '--adapter', 'sim', '--no-plc'], { stdio: 'inherit' });
  for (;;) {
    const status = readStatus(dataDir);
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

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number): number => Number(value.toFixed(3));

/** The first start and RESTARTS restarts of slvd on SLIVERS stored slivers; returns the last restart, still running. */
async function firstStartAndRestarts(loansPerSliver: number, dataDir: string, figure: string): Promise<Started> {
  const common = { loans: SLIVERS * loansPerSliver, note: 'compiled slvd, sim adapter, no PLC; status.json polled every 20 ms' };
  // The first start reconciles everything: every account created, every Sliver and Loan status written.
  const first = await startToReady(dataDir);
  report(BENCH, `slvd_first_start_to_ready_${figure}_no_status`, first.seconds, 's', { ...common, daemon_cpu_s: processFigures(first.daemon.pid!).cpuS, load1: first.load1 });
  await stop(first.daemon);
  // Each restart: stored specs and statuses, accounts in place.
  const runs: Array<{ seconds: number; cpuS: number; load1: number }> = [];
  let restart!: Started;
  for (let run = 0; run < RESTARTS; run++) {
    restart = await startToReady(dataDir);
    runs.push({ seconds: restart.seconds, cpuS: processFigures(restart.daemon.pid!).cpuS, load1: restart.load1 });
    if (run < RESTARTS - 1) await stop(restart.daemon);
  }
  report(BENCH, `slvd_restart_to_ready_${figure}`, median(runs.map((r) => r.seconds)), 's', {
    ...common,
    goal: `< ${READY_GOAL_S} s`,
    statistic: `median of ${RESTARTS}`,
    runs_s: runs.map((r) => round(r.seconds)),
    daemon_cpu_s: median(runs.map((r) => r.cpuS)),
    runs_daemon_cpu_s: runs.map((r) => r.cpuS),
    load1: median(runs.map((r) => r.load1)),
  });
  return restart;
}

for (const { loansPerSliver, figure } of [
  { loansPerSliver: 0, figure: '10000_stored_slivers' },
  { loansPerSliver: LOANS_PER_SLIVER, figure: '10000_stored_slivers_50000_loans' },
]) {
  const dataDir = await storedSpecs(loansPerSliver);
  try {
    const restart = await firstStartAndRestarts(loansPerSliver, dataDir, figure);
    if (loansPerSliver > 0) {
      // RSS as it falls: at Ready, then idle. V8 keeps the young generation the first list grew
      // (2 x 16 MB) until a memory-reducing GC, which an idle process gets from V8's memory
      // reducer about 100 s after its last GC; the figure is taken once that has had time to run.
      const rssNowMb = (): number => Number(processFigures(restart.daemon.pid!).rssMb.toFixed(1));
      const samples: Record<string, number> = { rss_at_ready_mb: rssNowMb() };
      let elapsedMs = 0;
      for (const atMs of IDLE_SAMPLES_MS) {
        await sleep(atMs - elapsedMs);
        elapsedMs = atMs;
        samples[`rss_after_${atMs / 1000}_s_idle_mb`] = rssNowMb();
      }
      await sleep(IDLE_MS - elapsedMs);
      const idle = processFigures(restart.daemon.pid!);
      report(BENCH, 'slvd_rss_10000_slivers_50000_loans_idle', idle.rssMb, 'MB', {
        goal: `< ${RSS_GOAL_MB} MB`,
        idle_s: IDLE_MS / 1000,
        ...samples,
        rss_file_mb: Number(idle.rssFileMb.toFixed(1)),
        load1: loadavg()[0],
        note: 'the last restart of the compiled daemon, default heap, idle; rss_file_mb is the node binary and libraries',
      });
    }
    await stop(restart.daemon);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
