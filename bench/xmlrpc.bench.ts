// XML-RPC shim figures: calls/s and latency over the Unix socket with 1 and 8 clients, each client
// opening a new connection per call and speaking HTTP/1.0 as the original's clients (and
// forward_api_calls) do. The clients run in a separate process, as a sliver's uid, so every call
// pays for SO_PEERCRED and the uid → account lookup, on a real SQLite store. The same clients
// against a bare `http` server that answers a constant give the machine's ceiling at that moment
// (the shim's figures mean little without it on a shared, loaded machine).
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { methodCallXml, sliver, startWorld } from '../test/support/xmlrpc-harness.js';
import { report } from './report.js';

const BENCH = 'xmlrpc';
const SECONDS = 3;

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
    socket.on('error', reject);
    socket.on('end', () => {
      const reply = Buffer.concat(chunks).toString();
      if (!reply.startsWith('HTTP/1.1 200') || !reply.includes('<params>')) reject(new Error('unexpected reply: ' + reply.slice(0, 300)));
      else resolve(performance.now() - start);
    });
  });
}
async function client(deadline, latencies) {
  while (performance.now() < deadline) latencies.push(await call());
}
(async () => {
  const warmup = [];
  await Promise.all(Array.from({ length: Number(concurrency) }, () => client(performance.now() + 300, warmup)));
  const latencies = [];
  const start = performance.now();
  await Promise.all(Array.from({ length: Number(concurrency) }, () => client(start + Number(seconds) * 1000, latencies)));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  process.stdout.write(JSON.stringify({ calls: latencies.length, elapsed, p50: at(0.5), p99: at(0.99) }));
})().catch((error) => { process.stderr.write(String(error.stack || error)); process.exit(1); });
`;

interface ClientFigures {
  calls: number;
  elapsed: number;
  p50: number;
  p99: number;
}

function runClients(socketPath: string, concurrency: number, body: string, uid: number): Promise<ClientFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/node', ['-e', CLIENT, socketPath, String(concurrency), String(SECONDS), body], { uid, gid: uid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout) as ClientFigures) : reject(new Error(`client exited ${code}: ${stderr}`))));
  });
}

const world = await startWorld();
try {
  const { uid } = await world.node.createAccount('alice', 'sliver');
  await world.store.create(sliver('alice', { rspec: { cpu_share: 64 } }));
  for (let i = 0; i < 100; i++) await world.store.create(sliver(`s${i}`));
  const calls = {
    GetRSpec: methodCallXml('GetRSpec', ['<string>alice</string>']),
    GetEffectiveRSpec: methodCallXml('GetEffectiveRSpec', ['<string>alice</string>']),
  };
  const bare = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('<?xml version="1.0"?><methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>'));
  });
  const bareSocket = join(world.dir, 'bare.sock');
  await new Promise<void>((resolve) => bare.listen(bareSocket, resolve));
  chmodSync(bareSocket, 0o666);
  const ceiling = await runClients(bareSocket, 8, calls.GetRSpec, uid);
  bare.close();
  report(BENCH, 'calls_per_s_unix_8_clients_bare_http_reference', ceiling.calls / ceiling.elapsed, 'calls/s', { clients: 8, new_connection_per_call: true, note: 'constant answer, no XML-RPC: the ceiling of this machine now' });

  for (const [method, body] of Object.entries(calls)) {
    for (const clients of [1, 8]) {
      const figures = await runClients(world.shim.socketPath, clients, body, uid);
      const extra = { method, clients, new_connection_per_call: true, calls: figures.calls, slivers: 101 };
      report(BENCH, `calls_per_s_unix_${clients}_client${clients > 1 ? 's' : ''}_${method}`, figures.calls / figures.elapsed, 'calls/s', clients === 8 && method === 'GetRSpec' ? { ...extra, aim: '>= 5000 calls/s' } : extra);
      report(BENCH, `p99_latency_unix_${clients}_client${clients > 1 ? 's' : ''}_${method}`, figures.p99, 'ms', { ...extra, p50_ms: Number(figures.p50.toFixed(3)) });
    }
  }
} finally {
  await world.close();
}
