// Start-up time of the commands: `slvctl version` and `slvctl get sl` against a running slvd (the sim
// adapter with the example PLC file), run as an installed user runs them (package.json "bin": the
// bin/slvctl launcher), wall time per run (goal < 120 ms each), beside `node -e 0` on the same
// machine at the same moment in the same environment, `node -e 0` without NODE_EXTRA_CA_CERTS (which
// Node 20 reads at every start, and the launcher moves aside: docs/performance.md "Start-up"), and the
// load average, since other work on a shared machine moves every figure. Builds dist/ first
// (scripts/build.mjs): the bins run the build when current. Uses hyperfine when installed
// (apt-get install hyperfine), else its own repeated timing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { report } from './report.js';
import { benchSlvdArgs, buildDist, checkout } from './compiled-slvd.js';

const BENCH = 'cli-start';
const GOAL_MS = 120;
const RUNS = 30;
buildDist();

const dataDir = mkdtempSync(join(tmpdir(), 'slv-bench-cli-'));
const socket = join(dataDir, 'api.sock');
const slvd = spawn(process.execPath, [checkout('bin/slvd.js'), ...benchSlvdArgs(dataDir), '--adapter', 'sim'], { stdio: 'inherit' });
try {
  for (let i = 0; !existsSync(socket); i++) {
    if (i > 300 || slvd.exitCode !== null) throw new Error(`slvd did not open ${socket}`);
    await sleep(100);
  }
  const installedBin = (JSON.parse(readFileSync(checkout('package.json'), 'utf8')) as { bin: Record<string, string> }).bin.slvctl!;
  const slvctl = `${checkout(installedBin)} --server ${socket}`;
  const commands = {
    node_e_0: `${process.execPath} -e 0`,
    // `env -u` adds one exec of /usr/bin/env (about a millisecond) to this reference.
    node_e_0_without_extra_ca_certs: `/usr/bin/env -u NODE_EXTRA_CA_CERTS ${process.execPath} -e 0`,
    slvctl_version: `${slvctl} version`,
    slvctl_get_sl: `${slvctl} get sl`,
  };
  // Under load every wall time stretches alike: the multiples of `node -e 0` are the steadier
  // figures, and so is the CPU time (user + system, with hyperfine).
  const references: Record<string, number> = {};
  for (const [metric, command] of Object.entries(commands)) {
    const load = loadavg()[0]!;
    const { mean, stddev, cpu, tool } = timeCommand(command);
    const versus = metric.startsWith('node_e_0')
      ? { NODE_EXTRA_CA_CERTS: metric === 'node_e_0' ? (process.env.NODE_EXTRA_CA_CERTS ?? null) : null }
      : { goal: `< ${GOAL_MS}`, ...Object.fromEntries(Object.entries(references).map(([reference, value]) => [`times_${reference}`, Number((mean / value).toFixed(2))])) };
    if (metric.startsWith('node_e_0')) references[metric] = mean;
    const cpuTime = cpu === undefined ? {} : { cpu_ms: Number(cpu.toFixed(1)) };
    report(BENCH, `${metric}_wall`, mean, 'ms', { stddev: Number(stddev.toFixed(1)), ...cpuTime, runs: RUNS, tool, load1: load, ...versus });
  }
} finally {
  slvd.kill('SIGTERM');
  await new Promise((resolve) => slvd.once('close', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}

/** Wall time of `command`, and with hyperfine its CPU time (user + system), in ms. */
function timeCommand(command: string): { mean: number; stddev: number; cpu?: number; tool: string } {
  const exported = join(dataDir, 'hyperfine.json');
  const hyperfine = spawnSync('hyperfine', ['--shell=none', '--warmup', '3', '--runs', String(RUNS), '--export-json', exported, command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (hyperfine.status === 0) {
    const result = JSON.parse(readFileSync(exported, 'utf8')).results[0] as { mean: number; stddev: number; user: number; system: number };
    return { mean: result.mean * 1000, stddev: result.stddev * 1000, cpu: (result.user + result.system) * 1000, tool: 'hyperfine' };
  }
  const [file, ...args] = command.split(' ');
  const times: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const start = performance.now();
    const run = spawnSync(file!, args, { stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`${command} exited ${run.status ?? run.signal}`);
    if (i >= 3) times.push(performance.now() - start);
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const stddev = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / times.length);
  return { mean, stddev, tool: 'own timing' };
}
