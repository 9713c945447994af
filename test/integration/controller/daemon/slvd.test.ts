// slvd as a real process on a temp data dir: readiness in status.json, one instance per data dir,
// SIGTERM exits 0, a restart resumes from the store while PLC is unreachable, stale locks, PLC
// over XML-RPC from a local stand-in, today's PLC over HTTPS with node authentication (the
// faithful stand-in), the config file with SIGHUP, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import xmlrpc from 'xmlrpc';
import type { DaemonStatus } from '../../../../controller/daemon/status-file.js';
import { EXAMPLE_PLC_FILE } from '../../../../controller/daemon/config.js';
import { ExitCodes } from '../../../../resources/errors.js';
import { tempDir } from '../../../support/runtime-helpers.js';
import { readStatus, spawnSlvd, waitForOutput, waitForStatus } from '../../../support/slvd-process.js';
import { startPlcStandIn } from '../../../support/plc-stand-in.js';
import { GETSLIVERS_TODAY_SAMPLE_URL } from '../../../support/reference-vectors.js';
import { PLC_SESSION_FILE } from '../../../../controller/daemon/slvd.js';
import type { NodeConfig, Sliver } from '../../../../schemas/types.js';

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
  const keyFile = join(dataDir, 'node.key');
  writeFileSync(keyFile, 'the-node-key\n');
  const second = spawnSlvd(t, ['--data-dir', dataDir, '--plc', `https://127.0.0.1:${port}/PLCAPI/`, '--node-id', '7', '--node-key-file', keyFile]);
  const status = await waitForStatus(dataDir, second, (s) => s.pid === second.child.pid && s.plc.lastSync !== undefined && s.ready, 'the restarted daemon is ready');
  assert.equal(status.plc.lastSync?.outcome, 'unreachable');
  assert.match(status.plc.lastSync?.error ?? '', /ECONNREFUSED/);
  assert.deepEqual(status.slivers, { total: EXAMPLE_SLIVERS, ready: EXAMPLE_SLIVERS }, 'the stored slivers are still served');
  await waitForOutput(second, /serving the stored state until PLC answers/);
  second.child.kill('SIGINT');
  assert.equal(await second.exited, 0);
});

test('a zero-byte or missing store.db next to other state is refused naming --init-store; --init-store starts anew', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  writeFileSync(join(dataDir, 'status.json'), '{}\n');
  writeFileSync(join(dataDir, 'slvd.yaml'), 'logLevel: info\n');
  writeFileSync(join(dataDir, 'store.db'), '');
  const zeroBytes = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE]);
  assert.equal(await zeroBytes.exited, ExitCodes.failure);
  assert.match(zeroBytes.output(), /store file \S+store\.db is empty \(0 bytes\) but the data dir \S+ holds other state \(status\.json\): refusing to start a new, empty store.*--init-store/);
  assert.equal(readFileSync(join(dataDir, 'store.db')).length, 0, 'the empty file is left as it was');

  rmSync(join(dataDir, 'store.db'));
  const missing = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE]);
  assert.equal(await missing.exited, ExitCodes.failure);
  assert.match(missing.output(), /store file \S+store\.db is missing but the data dir/);
  assert.equal(existsSync(join(dataDir, 'store.db')), false);

  const init = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE, '--init-store']);
  await waitForStatus(dataDir, init, allReady, 'a new store is started with --init-store');
  init.child.kill('SIGTERM');
  assert.equal(await init.exited, 0);
  const restarted = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE]);
  await waitForStatus(dataDir, restarted, (s) => s.pid === restarted.child.pid && allReady(s), 'the store it made opens without the flag');
  restarted.child.kill('SIGTERM');
  assert.equal(await restarted.exited, 0);
});

test('slvd polls a local stand-in for PLC over plain XML-RPC with a fixed auth struct when asked to', { timeout: 60_000 }, async (t) => {
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
  writeFileSync(config, `plc: http://127.0.0.1:${port}/PLCAPI/\nplcAllowHttp: true\nplcAuth: {AuthMethod: hmac, node_id: 42}\n`);
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--config', config]);
  await waitForStatus(dataDir, daemon, allReady, 'the slivers from PLC are Ready');
  assert.deepEqual(calls[0], [{ AuthMethod: 'hmac', node_id: 42 }]);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test("slvd against today's PLC (the HTTPS stand-in): BootAuth, a session, today's answer Ready; a wrong key is a clear error and the stored state is kept", { timeout: 90_000 }, async (t) => {
  const today = JSON.parse(readFileSync(GETSLIVERS_TODAY_SAMPLE_URL, 'utf8')) as { slivers: Array<Record<string, unknown>> };
  const nodeKey = 'node-42-secret-key';
  // As PLC answers: the time of the call, and slices that expire in the future.
  const plc = await startPlcStandIn(t, {
    nodes: { 42: nodeKey },
    answer: () => {
      const now = Math.floor(Date.now() / 1000);
      return { ...today, timestamp: now, slivers: today.slivers.map((sliver) => ({ ...sliver, expires: Math.max(now + 30 * 86400, sliver.expires as number) })) };
    },
  });
  const dataDir = tempDir(t, 'slvd-');
  const keyFile = join(dataDir, 'node.key');
  writeFileSync(keyFile, `${nodeKey}\n`, { mode: 0o600 });
  // The sample's lease_or_idle leases are long past, so the reservation duty would idle every
  // sliver; this test is about reaching PLC, so it runs without that duty (--controllers).
  const args = ['--data-dir', dataDir, '--plc', plc.url, '--plc-cacert', plc.caFile, '--node-id', '42', '--node-key-file', keyFile, '--controllers', '*,-reservation'];
  const daemon = spawnSlvd(t, args);
  const status = await waitForStatus(dataDir, daemon, (s) => s.ready && s.slivers.ready === 2 && s.delegates.ready === 1, "today's slivers are Ready");
  assert.equal(status.plc.authenticated, true);
  assert.ok(status.plc.lastReached);
  assert.deepEqual(status.plc.lastSync?.skipped, []);
  assert.deepEqual(
    plc.calls.slice(0, 2).map((c) => `${c.method}/${String(c.authMethod)}`),
    ['GetSession/hmac', 'GetSlivers/session'],
  );
  assert.equal(statSync(join(dataDir, PLC_SESSION_FILE)).mode & 0o777, 0o600);

  const get = async <T>(path: string): Promise<T> => {
    const answer = await request(status.apiSocket, 'GET', `/apis/nm.planet-lab.org/v1/${path}`);
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body) as T;
  };
  const codeen = await get<Sliver>('slivers/princeton_codeen');
  assert.deepEqual(
    [codeen.spec.rspec.cpu_share, codeen.spec.rspec.net_max, codeen.spec.vref, codeen.spec.initscript],
    [64, 20_000_000, 'lxc-f37-x86_64', '#!/bin/sh\nexec /usr/local/codeen/bin/proxy\n'],
  );
  assert.equal(codeen.status?.effectiveRSpec?.net_max, 20_000_000);
  const render = await get<Sliver>('slivers/3dlab_render');
  assert.deepEqual([render.spec.rspec.cpu_min, render.spec.rspec.disk_max], [250, 20_000_000]);
  assert.equal((await get<NodeConfig>('nodeconfigs/plc')).spec.bandwidthCap, 100_000_000);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  // PLC re-keyed the node and dropped its session: this node's key is now wrong.
  plc.nodes.set(42, 'rekeyed-at-plc');
  plc.sessions.clear();
  rmSync(join(dataDir, 'status.json'));
  const refused = spawnSlvd(t, args);
  const after = await waitForStatus(dataDir, refused, (s) => s.ready && s.plc.lastSync !== undefined, 'the daemon with a wrong key is up');
  assert.equal(after.plc.lastSync?.outcome, 'unauthorized');
  assert.equal(after.plc.authenticated, false);
  assert.match(after.plc.lastSync?.error ?? '', /PLC refused node 42's BootAuth \(wrong node id or key\?\)/);
  assert.deepEqual(
    [after.slivers, after.delegates],
    [
      { total: 2, ready: 2 },
      { total: 1, ready: 1 },
    ],
    'the stored state is kept',
  );
  await waitForOutput(refused, /PLC refused node 42's BootAuth/);
  assert.ok(!refused.output().includes(nodeKey) && !daemon.output().includes(nodeKey), 'the key is never logged');
  refused.child.kill('SIGTERM');
  assert.equal(await refused.exited, 0);
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
  assert.match(daemon.output(), /SIGHUP: configuration reloaded: plc \S+one\.json -> \S+two\.json/);

  // Exactly what changed, and what waits for a restart; a file put back needs none.
  writeFileSync(config, 'plcFile: two.json\nperiod: 60\nstagger: 7\nworkers: 4\n');
  daemon.child.kill('SIGHUP');
  await waitForOutput(daemon, /SIGHUP: these changes take effect after a restart: staggerSeconds 3 -> 7, workers 16 -> 4/);
  assert.match(daemon.output(), /SIGHUP: configuration reloaded: periodSeconds 3600 -> 60"/);
  writeFileSync(config, 'plcFile: two.json\nperiod: 60\n');
  daemon.child.kill('SIGHUP');
  await waitForOutput(daemon, /SIGHUP: configuration reloaded, nothing changed/);
  assert.equal(daemon.output().match(/take effect after a restart/g)?.length, 1, 'restored settings need no restart');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('slvd --version prints the version; without --config SIGHUP says there is nothing to re-read', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const version = spawnSlvd(t, ['--data-dir', dataDir, '--version']);
  assert.equal(await version.exited, 0);
  assert.match(version.output(), /^slvd \d+\.\d+\.\d+\n$/);
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--period', '3600']);
  await waitForStatus(dataDir, daemon, allReady, 'the example is synced');
  daemon.child.kill('SIGHUP');
  await waitForOutput(daemon, /SIGHUP: nothing to re-read: slvd was started without --config/);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('slvd --no-plc is Ready at once, serves its API and polls no PLC; turning PLC on by SIGHUP waits for a restart', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--no-plc']);
  const status = await waitForStatus(dataDir, daemon, (s) => s.ready, 'Ready');
  assert.deepEqual(status.plc, { source: 'none (--no-plc)' });
  assert.deepEqual([status.slivers.total, status.delegates.total], [0, 0], 'nothing from the example answer');
  assert.deepEqual(await request(status.apiSocket, 'GET', '/readyz'), { status: 200, body: 'ok' });
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  // The poller is made at start: a PLC source named by a reload is taken up by the next start.
  const config = join(dataDir, 'slvd.yaml');
  writeFileSync(config, 'noPlc: true\nperiod: 3600\n');
  const reloaded = spawnSlvd(t, ['--data-dir', dataDir, '--config', config]);
  await waitForStatus(dataDir, reloaded, (s) => s.ready && s.phase === 'running', 'Ready again');
  writeFileSync(config, `plcFile: ${EXAMPLE_PLC_FILE}\nperiod: 60\n`);
  reloaded.child.kill('SIGHUP');
  await waitForOutput(reloaded, /SIGHUP: these changes take effect after a restart: plc none \(--no-plc\) -> \S+getslivers\.json/);
  assert.match(reloaded.output(), /SIGHUP: configuration reloaded: periodSeconds 3600 -> 60"/);
  assert.deepEqual(readStatus(dataDir)?.plc, { source: 'none (--no-plc)' });
  reloaded.child.kill('SIGTERM');
  assert.equal(await reloaded.exited, 0);
});

test('bad flags and bad config files exit 2 naming what is wrong, before touching the data dir', { timeout: 90_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const config = join(dataDir, 'bad.yaml');
  writeFileSync(config, 'adapter: xen\nperiodSeconds: 5\n');
  const httpsConfig = join(dataDir, 'https.yaml');
  writeFileSync(join(dataDir, 'tokens.csv'), `${'a'.repeat(64)},root,0\n`, { mode: 0o644 });
  writeFileSync(httpsConfig, 'apiHttps: {port: 0, cert: api.crt, key: api.key, tokenFile: tokens.csv}\n');
  const cases: Array<[string[], RegExp]> = [
    [['--period', 'soon'], /--period expects a non-negative number, got "soon"/],
    [['--plc', 'http://127.0.0.1:1/', '--plc-file', EXAMPLE_PLC_FILE], /choose one of --plc URL, --plc-file FILE and --no-plc/],
    // The example answer would create its slivers as real accounts (and the sweep would meet every other one).
    [['--adapter', 'linux'], /the linux adapter acts on this node's accounts: name the PLC source with --plc URL, --plc-file FILE or --no-plc/],
    [['--adapter', 'lxc'], /the lxc adapter acts on this node's accounts: name the PLC source with --plc URL, --plc-file FILE or --no-plc/],
    [['--log-format', 'xml'], /option '--log-format <format>' argument 'xml' is invalid\. Allowed choices are auto, pretty, json/],
    [
      ['--config', config],
      /config file .*bad\.yaml is invalid: .*adapter must be equal to one of the allowed values \(sim, linux, vserver, lxc\).*unknown setting "periodSeconds"|unknown setting "periodSeconds".*adapter/,
    ],
    [['--plc', 'http://127.0.0.1:1/', '--node-id', '1', '--node-key-file', config], /--plc: "http:\/\/127\.0\.0\.1:1\/" is plain http; PLC is reached over https \(add --plc-allow-http/],
    [['--plc', 'https://127.0.0.1:1/', '--boot-file', join(dataDir, 'no-plnode.txt')], /cannot read the boot file .*no-plnode\.txt/],
    [['--config', httpsConfig], /token file .*tokens\.csv is open to other users \(mode 644\): chmod 600 it/],
  ];
  // Side by side: each case is a whole slvd start under tsx, seconds apiece on a loaded machine.
  const runs = cases.map(([args, message]) => ({ run: spawnSlvd(t, ['--data-dir', join(dataDir, 'unused'), ...args]), message }));
  for (const { run, message } of runs) {
    assert.equal(await run.exited, ExitCodes.usage, run.output());
    assert.match(run.output(), message);
  }
  assert.equal(existsSync(join(dataDir, 'unused')), false);
});

test('a failure no request handled stops slvd in order and exits 1, saying why', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  // Stands in for a bug: a rejected promise nobody handles, outside any request.
  const bug = join(dataDir, 'bug.mjs');
  writeFileSync(bug, "process.on('SIGUSR2', () => void Promise.reject(new Error('injected bug')));\n");
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE], ['--import', bug]);
  await waitForStatus(dataDir, daemon, allReady, 'every example sliver is Ready');
  daemon.child.kill('SIGUSR2');
  assert.equal(await daemon.exited, ExitCodes.failure);
  assert.match(daemon.output(), /"level":60,[^\n]*injected bug[^\n]*"origin":"unhandledRejection"/);
  assert.equal(readStatus(dataDir)?.phase, 'stopped');
  assert.equal(existsSync(join(dataDir, 'slvd.pid')), false, 'the lock is released');
});

test('a squatted XML-RPC socket path is reported in status.json, not fatal: slvd serves on its other sockets', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-');
  const squatted = join(dataDir, 'legacy.api');
  const squatter = createNetServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(squatted, () => resolve()));
  t.after(() => squatter.close());
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE, '--xmlrpc-legacy-socket', squatted]);
  const status = await waitForStatus(dataDir, daemon, allReady, 'every example sliver is Ready');
  assert.deepEqual(status.xmlrpcSockets, [
    { path: join(dataDir, 'sliver_mgr.api'), serving: true },
    {
      path: squatted,
      serving: false,
      problem: `cannot serve on the Unix socket ${squatted}: another server (the socket belongs to ${process.getuid?.() === 0 ? 'root' : `uid ${process.getuid?.()}`}) is listening on it`,
    },
  ]);
  assert.match(daemon.output(), /"level":50,[^\n]*"msg":"XML-RPC socket not served"/);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
