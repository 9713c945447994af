// slvd under 1,000 idle TCP connections from one unprivileged uid (issue 12): the daemon's RSS and
// CPU while they are held for 20 s, and how fast another uid's Help is answered meanwhile. slvd runs
// as a real process (sim node, example PLC file); the holders run as uid 65534 and the Help caller
// as uid 65533 when this runs as root (as this process otherwise, which root's exemption from the
// limits would flatter: the figures say which).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXAMPLE_PLC_FILE } from '../controller/daemon/config.js';
import { freePort } from '../test/support/xmlrpc-harness.js';
import { report } from './report.js';
import { benchSlvdArgs } from './compiled-slvd.js';

const BENCH = 'idle-connections';
const CONNECTIONS = 1000;
const HOLD_SECONDS = 20;
const MAIN = new URL('../controller/daemon/main.ts', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const HOLDER_UID = 65534;
const CALLER_UID = 65533;

// Runs as another uid through node -e (no file needs to be readable by it).
const CLIENT = `
const net = require('node:net');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const [mode, port, count, seconds] = process.argv.slice(1);
if (mode === 'hold') {
  let open = 0, closedByServer = 0;
  for (let i = 0; i < Number(count); i++) {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('connect', () => open++);
    socket.on('error', () => undefined);
    socket.on('close', () => { open--; closedByServer++; });
  }
  setTimeout(() => { process.stdout.write(JSON.stringify({ open, closedByServer })); process.exit(0); }, Number(seconds) * 1000);
} else {
  const body = '<?xml version="1.0"?><methodCall><methodName>Help</methodName><params></params></methodCall>';
  const latencies = [];
  const deadline = performance.now() + Number(seconds) * 1000;
  (async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      await new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/', headers: { 'Content-Type': 'text/xml', Connection: 'close' } }, (res) => { res.resume(); res.on('end', resolve); });
        req.on('error', reject);
        req.end(body);
      });
      latencies.push((performance.now() - start) / 1000);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ calls: latencies.length, max: sorted[sorted.length - 1], p50: sorted[Math.floor(sorted.length / 2)], first: latencies[0] }));
  })().catch((error) => { process.stderr.write(String(error)); process.exit(1); });
}
`;

function client(mode: 'hold' | 'help', port: number, uid: number | undefined, count: number, seconds: number): { child: ChildProcess; result: Promise<Record<string, number>> } {
  const child = spawn(process.execPath, ['-e', CLIENT, mode, String(port), String(count), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'], ...(uid === undefined ? {} : { uid, gid: uid }) });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { child, result: once(child, 'exit').then(() => JSON.parse(out) as Record<string, number>) };
}

/** The process's CPU seconds (user + system) and resident MB, from /proc. */
function usage(pid: number): { cpu: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpu: ticks / 100, rssMb: rssKb / 1024 }; // USER_HZ is 100 on Linux
}

const dataDir = mkdtempSync(join(tmpdir(), 'slv-bench-idle-'));
const port = await freePort();
const daemon = spawn(process.execPath, ['--import', 'tsx', MAIN, ...benchSlvdArgs(dataDir, port), '--plc-file', EXAMPLE_PLC_FILE], { stdio: ['ignore', 'ignore', 'inherit'] });
try {
  for (let i = 0; i < 300 && !/"ready": true/.test(readFileSync(join(dataDir, 'status.json'), { encoding: 'utf8', flag: 'a+' })); i++) await sleep(100);
  const pid = daemon.pid!;
  const idle = usage(pid);
  const holder = client('hold', port, isRoot ? HOLDER_UID : undefined, CONNECTIONS, HOLD_SECONDS);
  const caller = client('help', port, isRoot ? CALLER_UID : undefined, 0, HOLD_SECONDS - 2);
  let maxRss = idle.rssMb;
  const started = Date.now();
  while (Date.now() - started < HOLD_SECONDS * 1000) {
    await sleep(250);
    maxRss = Math.max(maxRss, usage(pid).rssMb);
  }
  const busy = usage(pid);
  const [held, help] = await Promise.all([holder.result, caller.result]);
  const who = isRoot ? { holderUid: HOLDER_UID, callerUid: CALLER_UID } : { note: 'not root: clients ran as this uid' };
  report(BENCH, 'connections_held_open', held.open ?? 0, 'connections', { attempted: CONNECTIONS, closedByServer: held.closedByServer, ...who });
  report(BENCH, 'daemon_rss_max', maxRss, 'MB', { goal: '< 150', idleBefore: Number(idle.rssMb.toFixed(1)) });
  report(BENCH, 'daemon_cpu', busy.cpu - idle.cpu, 's', { goal: '< 5', over: `${HOLD_SECONDS} s` });
  report(BENCH, 'help_latency_max', help.max ?? NaN, 's', { goal: '< 0.5', calls: help.calls, p50: help.p50, first: help.first, loadAverage: loadavg()[0] });
} finally {
  daemon.kill('SIGTERM');
  await once(daemon, 'exit');
  rmSync(dataDir, { recursive: true, force: true });
}
