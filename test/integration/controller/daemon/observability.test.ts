// What a node operator sees of slvd at work, with slvd and slvctl as real processes (sim node, the
// example GetSlivers file): /metrics (slivers by status and Ready, per-sliver Ready and effective
// rspec, XML-RPC calls by method and fault, PLC syncs and writes) and one info line in the JSON
// log per user-visible action (start, stop, loan granted or refused, delete, expiry).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ApiClient } from '../../../../adapters/api/client/client.js';
import { sliverStatusWord } from '../../../../resources/sliver-status.js';
import { slvctl } from '../../../support/slvctl-harness.js';
import { spawnSlvd, waitForOutput } from '../../../support/slvd-process.js';

const EXAMPLE_PLC_FILE = fileURLToPath(new URL('../../../../examples/getslivers.json', import.meta.url));

/** One XML-RPC call over the Unix socket, the answer's body as text. */
function xmlrpc(socketPath: string, method: string): Promise<string> {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params></params></methodCall>`;
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path: '/', headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of one sample of the Prometheus text, or undefined. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('metrics and one info log line per action', { timeout: 180_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'slv-observability-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE, '--period', '3600']);
  await waitForOutput(daemon, /slvd started/);
  const socket = join(dataDir, 'api.sock');
  const run = (args: string[]) => slvctl(args, { socket });
  for (const name of ['princeton_codeen', 'mit_ron']) {
    const ready = await run(['wait', 'sl', name, '--for=condition=Ready', '--timeout=60s']);
    assert.equal(ready.code, 0, `${ready.stderr}\n${daemon.output()}`);
  }

  // The actions.
  assert.equal((await run(['stop', 'sl', 'princeton_codeen', '--wait', '--timeout=60s'])).code, 0);
  assert.equal((await run(['start', 'sl', 'princeton_codeen', '--wait', '--timeout=60s'])).code, 0);
  const loans = await run(['loans', 'set', 'princeton_codeen', 'mit_ron:cpu_share:10', 'nobody:cpu_share:1', '--timeout=60s']);
  assert.equal(loans.code, 1, loans.stdout + loans.stderr);
  const expiring = join(dataDir, 'expiring.json');
  const expires = Math.floor(Date.now() / 1000) + 2;
  const spec = { type: 'sliver.VServer', instantiation: 'plc-instantiated', keys: [], initscript: '', rspec: {}, delegations: [], timestamp: 0, attributes: {}, expires };
  writeFileSync(expiring, JSON.stringify({ apiVersion: 'nm.planet-lab.org/v1', kind: 'Sliver', metadata: { name: 'short_lived' }, spec }));
  assert.equal((await run(['apply', '-f', expiring])).code, 0);
  assert.equal((await run(['delete', 'sl', 'ucb_oceanstore', '--timeout=60s'])).code, 0);
  await waitForOutput(daemon, /"reason":"Expired"/);

  assert.match(await xmlrpc(join(dataDir, 'sliver_mgr.api'), 'GetXIDs'), /<methodResponse><params>/);
  assert.match(await xmlrpc(join(dataDir, 'sliver_mgr.api'), 'NoSuchMethod'), /<name>faultCode<\/name><value><int>100<\/int>/);

  const client = new ApiClient(socket);
  t.after(() => client.close());
  const metrics = (await client.request<string>('GET', '/metrics')).body;
  const slivers = (await client.list('Sliver')).items;
  const running = slivers.filter((s) => sliverStatusWord(s, Date.now()) === 'Running');
  assert.ok(running.length >= 2, 'the example slivers run');
  assert.equal(sample(metrics, 'slv_slivers{status="Running",ready="True"}'), running.length, metrics);
  assert.equal(sample(metrics, 'slv_sliver_ready{sliver="princeton_codeen"}'), 1);
  assert.equal(sample(metrics, 'slv_sliver_effective_rspec{sliver="princeton_codeen",resource="cpu_share"}'), 64 - 10, 'its own 64 less the loan granted');
  assert.equal(sample(metrics, 'slv_sliver_effective_rspec{sliver="mit_ron",resource="cpu_share"}'), (await client.get('Sliver', 'mit_ron')).status?.effectiveRSpec?.cpu_share);
  assert.equal(sample(metrics, 'slv_xmlrpc_calls_total{method="GetXIDs",fault="0"}'), 1);
  assert.equal(sample(metrics, 'slv_xmlrpc_calls_total{method="other",fault="100"}'), 1);
  assert.equal(sample(metrics, 'slv_plc_sync_total{outcome="applied"}'), 1);
  assert.equal(sample(metrics, 'slv_plc_sync_total{outcome="unreachable"}'), 0, 'every outcome has a sample from the start');
  assert.ok((sample(metrics, 'slv_plc_objects_written_total{operation="create"}') ?? 0) >= 3, 'the example slivers were created');
  assert.equal(sample(metrics, 'slv_plc_objects_written_total{operation="delete"}'), 0);

  // The JSON log: one info line per action, with the object named.
  const lines = daemon
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; sliver?: string; reason?: string; loan?: string });
  const info = lines.filter((line) => line.level === 30);
  const about = (pattern: RegExp) => info.filter((line) => pattern.test(line.msg));
  assert.equal(about(/^stopped: spec\.run\.state is Stopped$/).length, 1, 'one line for the stop');
  assert.equal(about(/^started: /).filter((l) => l.sliver === 'princeton_codeen').length, 1, 'one line for the start');
  assert.equal(about(/^loan princeton_codeen\.0 granted$/).length, 1);
  assert.equal(about(/^loan princeton_codeen\.1 not granted: /).filter((l) => l.reason === 'UnknownTarget').length, 1);
  assert.equal(about(/^account ucb_oceanstore destroyed because the sliver was deleted$/).length, 1);
  assert.equal(about(/^deleted: it expired at /).filter((l) => l.sliver === 'short_lived').length, 1);
  assert.equal(about(/^applied GetSlivers from /).length, 1, 'the PLC sync that changed something');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
});
