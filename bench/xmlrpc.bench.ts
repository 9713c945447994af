// XML-RPC shim figures: calls/s and latency over the Unix socket with 1 and 8 clients, each client
// opening a new connection per call and speaking HTTP/1.0 as the original's clients (and
// forward_api_calls) do. The clients run in a separate process, as a sliver's uid, so every call
// pays for SO_PEERCRED and the uid → account lookup, on a real SQLite store. The same clients
// against a bare `http` server that answers a constant give the machine's ceiling at that moment
// (the shim's figures mean little without it on a shared, loaded machine): the bench starts it
// itself, alternating with the shim's runs, and prints slv/ceiling at 8 clients (goal >= 0.70, 0 errors).
//
// The shim, store, node adapter and informer are the compiled ones in dist/ (built first), as slvd
// runs them: under tsx every closure a call creates also pays for naming itself.
import { spawn } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { methodCallXml, sliver } from '../test/support/xmlrpc-harness.js';
import { worldReadableTempDir } from '../test/support/staging.js';
import { buildDist, checkout } from './compiled-slvd.js';
import { report } from './report.js';

const BENCH = 'xmlrpc';
const SECONDS = 3;
const SLIVERS = 1000;
const GOAL_RATIO = 0.7;
const ROUNDS = 3;

// Runs in the client process (plain CommonJS via -e, so no file needs to be readable by its uid).
const CLIENT = `
const net = require('node:net');
const { performance } = require('node:perf_hooks');
const [socketPath, concurrency, seconds, body] = process.argv.slice(1);
const request = Buffer.from('POST / HTTP/1.0\\r\\nContent-Type: text/xml\\r\\nContent-Length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body);
function call() {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = net.connect(socketPath, () => socket.end(request));
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    // A refused connection or a wrong answer is counted, not fatal: the figure says how many.
    socket.on('error', (error) => resolve({ error: error.code || error.message }));
    socket.on('end', () => {
      const reply = Buffer.concat(chunks).toString();
      if (!reply.startsWith('HTTP/1.1 200') || !reply.includes('<params>')) resolve({ error: 'unexpected reply: ' + reply.slice(0, 300) });
      else resolve({ latency: performance.now() - start });
    });
  });
}
const errors = [];
async function client(deadline, latencies) {
  while (performance.now() < deadline) {
    const outcome = await call();
    if (outcome.error) errors.push(outcome.error);
    else latencies.push(outcome.latency);
  }
}
(async () => {
  const warmup = [];
  await Promise.all(Array.from({ length: Number(concurrency) }, () => client(performance.now() + 300, warmup)));
  errors.length = 0;
  const latencies = [];
  const start = performance.now();
  await Promise.all(Array.from({ length: Number(concurrency) }, () => client(start + Number(seconds) * 1000, latencies)));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  process.stdout.write(JSON.stringify({ calls: latencies.length, errors: errors.length, firstError: errors[0], elapsed, p50: at(0.5), p99: at(0.99) }));
})().catch((error) => { process.stderr.write(String(error.stack || error)); process.exit(1); });
`;

interface ClientFigures {
  calls: number;
  errors: number;
  firstError?: string;
  elapsed: number;
  p50: number;
  p99: number;
  /** CPU time of this process (the server's side) per answered call, in µs: far less moved by load than calls/s. */
  serverCpuUsPerCall: number;
}

function runClients(socketPath: string, concurrency: number, body: string, uid: number): Promise<ClientFigures> {
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/node', ['-e', CLIENT, socketPath, String(concurrency), String(SECONDS), body], { uid, gid: uid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`client exited ${code}: ${stderr}`));
      const figures = JSON.parse(stdout) as Omit<ClientFigures, 'serverCpuUsPerCall'>;
      const cpu = process.cpuUsage(cpuBefore);
      resolve({ ...figures, serverCpuUsPerCall: (cpu.user + cpu.system) / Math.max(1, figures.calls + figures.errors) });
    });
  });
}

/** The bare-Node ceiling: the same clients against an `http` server answering a constant. */
async function ceiling(dir: string, body: string, uid: number): Promise<ClientFigures> {
  const bare = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('<?xml version="1.0"?><methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>'));
  });
  const bareSocket = join(dir, 'bare.sock');
  await new Promise<void>((resolve) => bare.listen(bareSocket, resolve));
  chmodSync(bareSocket, 0o666);
  try {
    return await runClients(bareSocket, 8, body, uid);
  } finally {
    await new Promise((resolve) => bare.close(resolve));
  }
}

const rate = (figures: ClientFigures) => figures.calls / figures.elapsed;

/** A module of the build, typed as its source. */
const compiled = <Module>(source: string): Promise<Module> => import(checkout(`dist/${source}.js`)) as Promise<Module>;

/** The shim over a real SQLite store and the sim node, reading from an informer as in slvd. */
async function startCompiledWorld() {
  buildDist();
  const { openSqliteStore } = await compiled<typeof import('../adapters/store/sqlite.js')>('adapters/store/sqlite');
  const { createSimAdapter } = await compiled<typeof import('../adapters/node/sim/index.js')>('adapters/node/sim/index');
  const { startXmlRpcShim } = await compiled<typeof import('../adapters/api/xmlrpc/server.js')>('adapters/api/xmlrpc/server');
  const { Informer } = await compiled<typeof import('../controller/runtime/informer.js')>('controller/runtime/informer');
  const { systemClock } = await compiled<typeof import('../controller/runtime/clock.js')>('controller/runtime/clock');
  const dir = worldReadableTempDir('slv-bench-xmlrpc-');
  const store = openSqliteStore(join(dir, 'store.db'));
  const node = createSimAdapter({ dataDir: join(dir, 'node'), systemAccounts: {} });
  const informer = new Informer({ store, clock: systemClock, log: pino({ level: 'silent' }) });
  await informer.start();
  const shim = await startXmlRpcShim({ store, node, port: 0, socketPath: join(dir, 'api.sock'), cache: informer });
  return {
    dir,
    store,
    node,
    shim,
    async close() {
      await shim.close();
      await informer.close();
      await node.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const world = await startCompiledWorld();
try {
  const { uid } = await world.node.createAccount('alice', 'sliver');
  await world.store.create(sliver('alice', { rspec: { cpu_share: 64 } }));
  for (let i = 1; i < SLIVERS; i++) await world.store.create(sliver(`s${i}`));
  const calls = {
    GetRSpec: methodCallXml('GetRSpec', ['<string>alice</string>']),
    GetEffectiveRSpec: methodCallXml('GetEffectiveRSpec', ['<string>alice</string>']),
  };
  // Ceiling, slv, ceiling, slv, ... ceiling: each slv run's ratio uses the mean of the two
  // ceilings around it, so a change of load during the bench moves both sides alike; the figure is
  // the median of the rounds' ratios (one round on a shared machine moves by ±30 %).
  const load1 = loadavg()[0]!;
  const ceilings = [await ceiling(world.dir, calls.GetRSpec, uid)];
  const rounds: ClientFigures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rounds.push(await runClients(world.shim.socketPath, 8, calls.GetRSpec, uid));
    ceilings.push(await ceiling(world.dir, calls.GetRSpec, uid));
  }
  const ratios = rounds.map((slv, i) => rate(slv) / ((rate(ceilings[i]!) + rate(ceilings[i + 1]!)) / 2));
  const middle = [...ratios.keys()].sort((a, b) => ratios[a]! - ratios[b]!)[Math.floor(ROUNDS / 2)]!;
  const slv = rounds[middle]!;
  const bareRate = (rate(ceilings[middle]!) + rate(ceilings[middle + 1]!)) / 2;
  const slvErrors = rounds.reduce((sum, figures) => sum + figures.errors, 0);
  const common = { clients: 8, new_connection_per_call: true, http: '1.0', slivers: SLIVERS, load1 };
  report(BENCH, 'calls_per_s_unix_8_clients_bare_http_reference', bareRate, 'calls/s', {
    ...common,
    rounds: ceilings.map((figures) => Math.round(rate(figures))),
    errors: ceilings.reduce((sum, figures) => sum + figures.errors, 0),
    note: 'constant answer, no XML-RPC: the ceiling of this machine now (the pair around the median round)',
  });
  report(BENCH, 'calls_per_s_unix_8_clients_GetRSpec', rate(slv), 'calls/s', { ...common, method: 'GetRSpec', errors: slv.errors, firstError: slv.firstError, p99_ms: Number(slv.p99.toFixed(3)) });
  report(BENCH, 'slv_over_ceiling_8_clients_GetRSpec', ratios[middle]!, 'ratio', {
    ...common,
    method: 'GetRSpec',
    rounds: ratios.map((ratio) => Number(ratio.toFixed(3))),
    errors: slvErrors,
    load1_after: loadavg()[0],
    server_cpu_us_per_call: Math.round(slv.serverCpuUsPerCall),
    ceiling_cpu_us_per_call: Math.round(ceilings[middle]!.serverCpuUsPerCall),
    goal: `>= ${GOAL_RATIO} with 0 errors`,
  });

  for (const [method, body] of Object.entries(calls)) {
    for (const clients of [1, 8]) {
      if (method === 'GetRSpec' && clients === 8) continue;
      const figures = await runClients(world.shim.socketPath, clients, body, uid);
      const extra = { method, clients, new_connection_per_call: true, calls: figures.calls, errors: figures.errors, slivers: SLIVERS, load1: loadavg()[0] };
      report(BENCH, `calls_per_s_unix_${clients}_client${clients > 1 ? 's' : ''}_${method}`, rate(figures), 'calls/s', extra);
      report(BENCH, `p99_latency_unix_${clients}_client${clients > 1 ? 's' : ''}_${method}`, figures.p99, 'ms', { ...extra, p50_ms: Number(figures.p50.toFixed(3)) });
    }
  }
} finally {
  await world.close();
}
