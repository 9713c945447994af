// slvd as a real process on a temp data dir: readiness in status.json, one instance per data dir,
// SIGTERM exits 0, a restart resumes from the store while PLC is unreachable, stale locks, PLC
// over XML-RPC from a local stand-in, the config file with SIGHUP, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import xmlrpc from 'xmlrpc';
import type { DaemonStatus } from '../../../../controller/daemon/status-file.js';
import { EXAMPLE_PLC_FILE } from '../../../../controller/daemon/config.js';
import { ExitCodes } from '../../../../resources/errors.js';
import { tempDir } from '../../../support/runtime-helpers.js';
import { readStatus, spawnSlvd, waitForOutput, waitForStatus } from '../../../support/slvd-process.js';

const EXAMPLE_SLIVERS = 4;

const allReady = (s: DaemonStatus) => s.ready && s.slivers.ready === EXAMPLE_SLIVERS && s.delegates.ready === 1;

/** One HTTP request to slvd's REST API on its Unix socket (as root, the test's user). */
function request(socketPath: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test('slvd reaches Ready, refuses a second instance naming the pid, exits 0 on SIGTERM', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE]);
  const status = await waitForStatus(dataDir, daemon, allReady, 'every example sliver is Ready');
  assert.equal(status.pid, daemon.child.pid);
  assert.equal(status.plc.lastSync?.outcome, 'applied');
  await waitForOutput(daemon, /"msg":"4\/4 slivers Ready, 1\/1 delegates Ready"/);
  assert.equal(readFileSync(join(dataDir, 'slvd.pid'), 'utf8').trim(), String(daemon.child.pid));

  assert.deepEqual(await request(status.apiSocket, 'GET', '/readyz'), { status: 200, body: 'ok' });
  const deleted = await request(status.apiSocket, 'DELETE', '/apis/nm.planet-lab.org/v1/slivers/mit_ron');
  assert.ok([200, 202].includes(deleted.status), deleted.body);
  await waitForStatus(dataDir, daemon, (s) => s.slivers.total === EXAMPLE_SLIVERS - 1, 'status.json follows a change between PLC syncs');

  const second = spawnSlvd(t, ['--data-dir', dataDir]);
  assert.equal(await second.exited, ExitCodes.conflict);
  assert.match(second.output(), new RegExp(`another slvd \\(pid ${daemon.child.pid}\\) is running on data dir`));
  assert.equal(readStatus(dataDir)?.pid, daemon.child.pid, 'the refused instance leaves the status file alone');

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.equal(existsSync(join(dataDir, 'slvd.pid')), false, 'the lock is released');
  assert.equal(readStatus(dataDir)?.phase, 'stopped');
  assert.match(daemon.output(), /slvd stopped/);
});

test('a restart with PLC unreachable resumes from the store; a stale lock is taken over', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const first = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE]);
  await waitForStatus(dataDir, first, allReady, 'the first run is Ready');
  // SIGKILL: no clean shutdown, the lock file stays behind with a dead pid.
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(readFileSync(join(dataDir, 'slvd.pid'), 'utf8').trim(), String(first.child.pid));

  const port = await closedPort();
  const second = spawnSlvd(t, ['--data-dir', dataDir, '--plc', `http://127.0.0.1:${port}/PLCAPI/`]);
  const status = await waitForStatus(dataDir, second, (s) => s.pid === second.child.pid && s.plc.lastSync !== undefined && s.ready, 'the restarted daemon is ready');
  assert.equal(status.plc.lastSync?.outcome, 'unreachable');
  assert.match(status.plc.lastSync?.error ?? '', /ECONNREFUSED/);
  assert.deepEqual(status.slivers, { total: EXAMPLE_SLIVERS, ready: EXAMPLE_SLIVERS }, 'the stored slivers are still served');
  await waitForOutput(second, /serving the stored state until PLC answers/);
  second.child.kill('SIGINT');
  assert.equal(await second.exited, 0);
});

test('slvd polls a local stand-in for PLC over XML-RPC', { timeout: 60_000 }, async (t) => {
  const nodes = JSON.parse(readFileSync(EXAMPLE_PLC_FILE, 'utf8')) as unknown;
  const calls: unknown[][] = [];
  let server!: ReturnType<typeof xmlrpc.createServer>;
  await new Promise<void>((resolve) => (server = xmlrpc.createServer({ host: '127.0.0.1', port: 0 }, resolve)));
  server.on('GetSlivers', (_error: unknown, params: unknown[], callback: (error: unknown, value?: unknown) => void) => {
    calls.push(params);
    callback(null, nodes);
  });
  t.after(() => new Promise<void>((resolve) => server.httpServer.close(() => resolve())));
  const { port } = server.httpServer.address() as AddressInfo;

  const dataDir = tempDir(t, 'slvd-');
  const config = join(dataDir, 'slvd.yaml');
  writeFileSync(config, `plc: http://127.0.0.1:${port}/PLCAPI/\nplcAuth: {AuthMethod: hmac, node_id: 42}\n`);
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--config', config]);
  await waitForStatus(dataDir, daemon, allReady, 'the slivers from PLC are Ready');
  assert.deepEqual(calls[0], [{ AuthMethod: 'hmac', node_id: 42 }]);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('SIGHUP re-reads the config file: a new PLC file is synced at once', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const one = join(dataDir, 'one.json');
  const two = join(dataDir, 'two.json');
  writeFileSync(one, JSON.stringify({ timestamp: 100, slivers: [{ name: 'pl_one' }] }));
  writeFileSync(two, JSON.stringify({ timestamp: 200, slivers: [{ name: 'pl_one' }, { name: 'pl_two' }] }));
  const config = join(dataDir, 'slvd.yaml');
  writeFileSync(config, 'plcFile: one.json\nperiod: 3600\n');
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--config', config]);
  await waitForStatus(dataDir, daemon, (s) => s.ready && s.slivers.ready === 1, 'the first file is synced');

  writeFileSync(config, 'plcFile: [not, a, path]\n');
  daemon.child.kill('SIGHUP');
  await waitForOutput(daemon, /SIGHUP: config not reloaded/);
  assert.equal(readStatus(dataDir)?.plc.source, `file ${one}`);
  writeFileSync(config, 'plcFile: two.json\nperiod: 3600\n');
  daemon.child.kill('SIGHUP');
  await waitForStatus(dataDir, daemon, (s) => s.slivers.ready === 2, 'the second file is synced after SIGHUP');
  assert.match(daemon.output(), /SIGHUP: configuration reloaded/);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('slvd --no-plc is Ready at once, serves its API and polls no PLC', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--no-plc']);
  const status = await waitForStatus(dataDir, daemon, (s) => s.ready, 'Ready');
  assert.deepEqual(status.plc, { source: 'none (--no-plc)' });
  assert.deepEqual([status.slivers.total, status.delegates.total], [0, 0], 'nothing from the example answer');
  assert.deepEqual(await request(status.apiSocket, 'GET', '/readyz'), { status: 200, body: 'ok' });
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('bad flags and bad config files exit 2 naming what is wrong, before touching the data dir', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const config = join(dataDir, 'bad.yaml');
  writeFileSync(config, 'adapter: xen\nperiodSeconds: 5\n');
  const cases: Array<[string[], RegExp]> = [
    [['--period', 'soon'], /--period expects a non-negative number, got "soon"/],
    [['--plc', 'http://127.0.0.1:1/', '--plc-file', EXAMPLE_PLC_FILE], /choose one of --plc URL, --plc-file FILE and --no-plc/],
    // The example answer would create its slivers as real accounts (and the sweep would meet every other one).
    [['--adapter', 'linux'], /the linux adapter acts on this node's accounts: name the PLC source with --plc URL, --plc-file FILE or --no-plc/],
    [['--config', config], /config file .*bad\.yaml is invalid: .*adapter must be equal to one of the allowed values \(sim, linux, vserver\).*unknown setting "periodSeconds"|unknown setting "periodSeconds".*adapter/],
  ];
  for (const [args, message] of cases) {
    const run = spawnSlvd(t, ['--data-dir', join(dataDir, 'unused'), ...args]);
    assert.equal(await run.exited, ExitCodes.usage, run.output());
    assert.match(run.output(), message);
  }
  assert.equal(existsSync(join(dataDir, 'unused')), false);
});
