// The REST API server over its real Unix socket with a real SQLite store: verbs, patches, apply with
// field ownership, watch, errors as Status bodies, limits, the socket's lifecycle, and authorization
// of a client running as another uid.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { ApiClient, type ApiWatchEvent } from '../../../../../adapters/api/client/client.js';
import { CONTENT_TYPES } from '../../../../../adapters/api/routes.js';
import { resourcePath } from '../../../../../adapters/api/routes.js';
import { startApiServer } from '../../../../../adapters/api/rest/server.js';
import { recordUpdate, type KubernetesManagedFieldsEntry } from '../../../../../resources/apply.js';
import { SlvError, SocketPathError } from '../../../../../resources/errors.js';
import { API_VERSION, type Delegate, type Loan, type Sliver } from '../../../../../schemas/types.js';
import { sliverManifest, startTestApi, type TestApi } from '../../../../support/api-harness.js';
import { OWNER_NAME } from '../../../../support/host-needs.js';

let api: TestApi;
before(async () => {
  api = await startTestApi({ maxBodyBytes: 64 * 1024 });
});
after(async () => {
  await api.close();
});

async function rejectsWith(promise: Promise<unknown>, reason: string, message?: RegExp): Promise<SlvError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SlvError, `expected an SlvError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${reason}`);
}

test('health, readiness, version, metrics and discovery answer', { timeout: 10_000 }, async () => {
  assert.equal((await api.client.request('GET', '/healthz')).body, 'ok\n');
  assert.equal((await api.client.request('GET', '/readyz')).body, 'ok\n');
  const version = (await api.client.request<{ version: string; apiVersion: string }>('GET', '/version')).body;
  assert.match(version.version, /^\d+\.\d+\.\d+/);
  assert.equal(version.apiVersion, 'nm.planet-lab.org/v1');
  const discovery = (await api.client.request<{ resources: Array<{ name: string; shortNames: string[] }> }>('GET', '/apis/nm.planet-lab.org/v1')).body;
  assert.deepEqual(
    discovery.resources.map((r) => r.name),
    ['slivers', 'delegates', 'loans', 'events', 'nodeconfigs', 'slivers/status', 'delegates/status', 'loans/status', 'nodeconfigs/status', 'slivers/loans', 'slivers/log'],
  );
  const metrics = (await api.client.request<string>('GET', '/metrics')).body;
  assert.match(metrics, /apiserver_request_total\{verb="get",resource="\/readyz",code="200"\} 1/);
  assert.equal(statSync(api.socketPath).mode & 0o777, 0o666);
});

test('readyz says 503 while the daemon is not ready', { timeout: 10_000 }, async () => {
  const socketPath = join(api.dir, 'unready.sock');
  const server = await startApiServer({ store: api.store, socketPath, metrics: new Registry(), ready: () => false, node: api.node });
  const client = new ApiClient(socketPath);
  try {
    await rejectsWith(client.request('GET', '/readyz'), 'ServiceUnavailable');
  } finally {
    client.close();
    await server.close();
  }
});

test('create, get, list with selectors, update, patches and delete round-trip', { timeout: 10_000 }, async () => {
  const { client } = api;
  const created = await client.create(sliverManifest('round', {}, { labels: { team: 'a' } }));
  assert.equal(created.metadata.generation, 1);
  await rejectsWith(client.create(sliverManifest('round')), 'AlreadyExists', /sliver "round" already exists/);
  const sameNameDelegate: Delegate = { apiVersion: API_VERSION, kind: 'Delegate', metadata: { name: 'round' }, spec: { keys: [], timestamp: 0 } };
  const taken = await rejectsWith(client.create(sameNameDelegate), 'AlreadyExists', /delegate "round" cannot be created: sliver "round" holds the account name/);
  assert.equal(taken.code, 409);
  assert.deepEqual((await client.get('Sliver', 'round')).spec, created.spec);
  await client.create(sliverManifest('other', {}, { labels: { team: 'b' } }));
  assert.deepEqual(
    (await client.list('Sliver', { labelSelector: 'team=a' })).items.map((s) => s.metadata.name),
    ['round'],
  );
  assert.deepEqual(
    (await client.list('Sliver', { fieldSelector: 'metadata.name=other' })).items.map((s) => s.metadata.name),
    ['other'],
  );

  const edited = structuredClone(created);
  edited.spec.keys = ['ssh-ed25519 K'];
  const updated = await client.update(edited);
  assert.equal(updated.metadata.generation, 2);
  // The same edit again carries the old resourceVersion: 409 naming the current one.
  const conflict = await rejectsWith(client.update(edited), 'Conflict');
  assert.ok(conflict.causes.some((c) => c.message === `current resourceVersion is ${updated.metadata.resourceVersion}`));

  const merged = await client.mergePatch('Sliver', 'round', { spec: { rspec: { cpu_share: 64 } } });
  assert.equal(merged.spec.rspec.cpu_share, 64);
  const patched = (
    await client.request<Sliver>('PATCH', resourcePath('Sliver', 'round'), {
      body: [{ op: 'replace', path: '/spec/initscript', value: 'echo hi' }],
      contentType: CONTENT_TYPES.jsonPatch,
    })
  ).body;
  assert.equal(patched.spec.initscript, 'echo hi');
  assert.equal(patched.spec.rspec.cpu_share, 64);
  await rejectsWith(
    client.request('PATCH', resourcePath('Sliver', 'round'), { body: [{ op: 'test', path: '/spec/initscript', value: 'no' }], contentType: CONTENT_TYPES.jsonPatch }),
    'Invalid',
    /JSON patch cannot be applied/,
  );

  const dryRun = await client.request('DELETE', resourcePath('Sliver', 'round'), { query: { dryRun: 'All' } });
  assert.equal(dryRun.code, 200);
  assert.ok(await client.tryGet('Sliver', 'round'), 'a dry-run delete keeps the object');
  assert.equal((await client.delete('Sliver', 'round')).code, 200);
  await rejectsWith(client.get('Sliver', 'round'), 'NotFound', /sliver "round" not found/);
});

test('status is written only through /status', { timeout: 10_000 }, async () => {
  const { client } = api;
  const created = await client.create({ ...sliverManifest('stat'), status: { xid: 99 } });
  assert.equal(created.status, undefined, 'status in a create body is ignored');
  const withStatus = (await client.request<Sliver>('PATCH', resourcePath('Sliver', 'stat', 'status'), { body: { status: { running: true } }, contentType: CONTENT_TYPES.mergePatch })).body;
  assert.equal(withStatus.status?.running, true);
  assert.equal(withStatus.metadata.generation, 1, 'a status write does not bump generation');
  const main = await client.mergePatch('Sliver', 'stat', { status: { running: false } });
  assert.equal(main.status?.running, true, 'the main resource ignores status');
});

test('bad input: Status errors with the right codes, each naming what is wrong', { timeout: 10_000 }, async () => {
  const { client } = api;
  const path = resourcePath('Sliver');
  await rejectsWith(client.request('POST', path, { body: '{"apiVersion": ' }), 'BadRequest', /not valid JSON/);
  await rejectsWith(client.request('POST', path, { body: { ...sliverManifest('bad'), spec: { ...sliverManifest('bad').spec, colour: 'red' } } }), 'Invalid', /spec\.colour: unknown field/);
  await rejectsWith(client.request('POST', path, { body: sliverManifest('Bad Name') }), 'Invalid', /metadata\.name: must be an account name/);
  await rejectsWith(client.request('POST', path, { body: { ...sliverManifest('x'), kind: 'Pod' } }), 'Invalid', /unknown kind "Pod"/);
  await rejectsWith(client.request('POST', resourcePath('Loan'), { body: sliverManifest('x') }), 'BadRequest', /body is a Sliver, but the path is for Loan objects/);
  await rejectsWith(client.request('POST', path, { body: 'a: b', contentType: 'text/plain' }), 'UnsupportedMediaType');
  await rejectsWith(client.request('GET', '/apis/nm.planet-lab.org/v1/pods'), 'NotFound', /resource type "pods"/);
  await rejectsWith(client.request('DELETE', path), 'MethodNotAllowed');
  await rejectsWith(client.request('GET', path, { query: { labelSelector: '=x' } }), 'BadRequest', /invalid labelSelector/);
  await rejectsWith(client.request('POST', path, { body: sliverManifest('dry'), query: { dryRun: 'Some' } }), 'BadRequest', /invalid dryRun="Some"/);
  await rejectsWith(client.request('POST', path, { body: { ...sliverManifest('big'), spec: { ...sliverManifest('big').spec, initscript: 'x'.repeat(70_000) } } }), 'RequestEntityTooLarge');
  assert.equal(await client.tryGet('Sliver', 'big'), undefined);
});

test('a request declaring an oversized body is refused before it is read', { timeout: 10_000 }, async () => {
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(api.socketPath);
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(`POST ${resourcePath('Sliver')} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{`);
  });
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.match(answer, /"reason":"RequestEntityTooLarge"/);
});

/** One raw HTTP/1.1 request on a fresh connection; the whole answer as text. */
function rawRequest(socketPath: string, requestLine: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(socketPath);
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(`${requestLine}\r\nHost: x\r\nConnection: close\r\n\r\n`);
  });
}

test('request targets that once killed the server: unresolvable paths and malformed percent-encoding', { timeout: 10_000 }, async () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    for (const target of ['//', '//x:notaport/', '//x:notaport/healthz?a=%']) {
      assert.match(await rawRequest(api.socketPath, `GET ${target} HTTP/1.1`), /^HTTP\/1\.1 404 [^]*"reason":"NotFound"/, target);
    }
    const malformed = await rawRequest(api.socketPath, `GET ${resourcePath('Sliver')}/%E0%A4%A HTTP/1.1`);
    assert.match(malformed, /^HTTP\/1\.1 400 /);
    assert.match(malformed, /malformed percent-encoding in the path segment \\"%E0%A4%A\\"/);
    assert.match(await rawRequest(api.socketPath, 'GET * HTTP/1.1'), /^HTTP\/1\.1 400 [^]*the request path must start with/);
    assert.equal((await api.client.request('GET', '/healthz')).code, 200);
  } finally {
    process.off('unhandledRejection', record);
  }
  assert.deepEqual(unhandled, []);
});

test('server-side apply: create, unchanged re-apply, conflict with PLC-owned fields, force', { timeout: 10_000 }, async () => {
  const { client, store } = api;
  const applied = await client.apply(sliverManifest('applied', { keys: ['k1'] }), { fieldManager: 'slvctl' });
  assert.equal(applied.code, 201);
  const again = await client.apply(sliverManifest('applied', { keys: ['k1'] }), { fieldManager: 'slvctl' });
  assert.equal(again.code, 200);
  assert.equal(again.body.metadata.resourceVersion, applied.body.metadata.resourceVersion, 'an unchanged apply writes nothing');

  // PLC writes a sliver through the store, recording its ownership.
  await store.create(recordUpdate(undefined, sliverManifest('plcowned', { rspec: { cpu_share: 32 } }), 'plc', new Date().toISOString()));
  const configuration = sliverManifest('plcowned', { rspec: { cpu_share: 100 } });
  await rejectsWith(client.apply(configuration, { fieldManager: 'ops' }), 'Conflict', /\/spec\/rspec\/cpu_share \(owned by "plc"\)/);
  const dry = await client.apply(configuration, { fieldManager: 'ops', force: true, dryRun: true });
  assert.equal(dry.body.spec.rspec.cpu_share, 100);
  assert.equal((await client.get('Sliver', 'plcowned')).spec.rspec.cpu_share, 32, 'dry run wrote nothing');
  const forced = await client.apply(configuration, { fieldManager: 'ops', force: true });
  assert.equal(forced.body.spec.rspec.cpu_share, 100);
  // managedFields reach clients in Kubernetes' FieldsV1 form (kubectl reads no other).
  const entries = forced.body.metadata.managedFields as unknown as KubernetesManagedFieldsEntry[];
  const ops = entries.find((e) => e.manager === 'ops')!;
  assert.equal(ops.fieldsType, 'FieldsV1');
  assert.equal(ops.apiVersion, API_VERSION);
  assert.deepEqual((ops.fieldsV1['f:spec'] as Record<string, unknown>)['f:rspec'], { 'f:cpu_share': {} });
  assert.ok(!JSON.stringify(entries.find((e) => e.manager === 'plc') ?? {}).includes('f:cpu_share'), 'the forced field left plc');
  await rejectsWith(client.request('PATCH', resourcePath('Sliver', 'plcowned'), { body: configuration, contentType: CONTENT_TYPES.applyJson }), 'BadRequest', /fieldManager/);
});

test('watch streams events from a resourceVersion, filtered by label selector', { timeout: 10_000 }, async () => {
  const { client } = api;
  const start = (await client.list('Sliver')).metadata.resourceVersion;
  const events: ApiWatchEvent[] = [];
  let resolveSeen: () => void;
  const seen = new Promise<void>((resolve) => (resolveSeen = resolve));
  const watch = client.watch('Sliver', { resourceVersion: start, labelSelector: 'watched' }, (event) => {
    events.push(event);
    if (event.type === 'DELETED') resolveSeen();
  });
  await client.create(sliverManifest('unwatched'));
  await client.create(sliverManifest('watched1', {}, { labels: { watched: 'yes' } }));
  await client.mergePatch('Sliver', 'watched1', { spec: { initscript: 'x' } });
  await client.delete('Sliver', 'watched1');
  await seen;
  watch.stop();
  await watch.done;
  assert.deepEqual(
    events.map((e) => [e.type, (e.object as Sliver).metadata.name]),
    [
      ['ADDED', 'watched1'],
      ['MODIFIED', 'watched1'],
      ['DELETED', 'watched1'],
    ],
  );
});

test('a watch from a compacted revision is 410 Gone; closing the server ends open watches', { timeout: 10_000 }, async () => {
  const socketPath = join(api.dir, 'closing.sock');
  const server = await startApiServer({ store: api.store, socketPath, metrics: new Registry(), ready: () => true, node: api.node });
  const client = new ApiClient(socketPath);
  try {
    await api.client.mergePatch('Sliver', 'stat', { metadata: { labels: { touched: 'once' } } });
    await api.client.mergePatch('Sliver', 'stat', { metadata: { labels: { touched: 'twice' } } });
    await api.store.compact(1);
    await rejectsWith(client.watch('Sliver', { resourceVersion: '1' }, () => undefined).done, 'Gone');
    // The stream is open once it delivers an event; closing the server must end it, not wait for it.
    let delivered: () => void;
    const firstEvent = new Promise<void>((resolve) => (delivered = resolve));
    const open = client.watch('Sliver', { resourceVersion: String(api.store.revision()) }, () => delivered());
    await api.client.mergePatch('Sliver', 'stat', { metadata: { labels: { touched: 'thrice' } } });
    await firstEvent;
    await server.close();
    await open.done;
  } finally {
    client.close();
  }
});

test('the socket: a stale file is replaced, a live server is not, a non-socket is refused', { timeout: 10_000 }, async () => {
  await assert.rejects(
    startApiServer({ store: api.store, socketPath: api.socketPath, metrics: new Registry(), ready: () => true, node: api.node }),
    (error: unknown) => error instanceof SocketPathError && new RegExp(`another server \\(the socket belongs to ${OWNER_NAME}\\) is listening on it`).test(error.message),
  );
  const plainFile = join(api.dir, 'not-a-socket');
  writeFileSync(plainFile, 'x');
  await assert.rejects(
    startApiServer({ store: api.store, socketPath: plainFile, metrics: new Registry(), ready: () => true, node: api.node }),
    new RegExp(`exists, owned by ${OWNER_NAME}, and is not a socket`),
  );
  // A server that died without cleaning up leaves its socket file behind.
  const stalePath = join(api.dir, 'stale.sock');
  execFileSync('/usr/bin/python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(stalePath)})`]);
  const server = await startApiServer({ store: api.store, socketPath: stalePath, metrics: new Registry(), ready: () => true, node: api.node });
  const client = new ApiClient(stalePath);
  try {
    assert.equal((await client.request('GET', '/healthz')).code, 200);
  } finally {
    client.close();
    await server.close();
  }
});

/** Runs HTTP requests as `uid` with /usr/bin/node; returns [code, reason or name] per request. */
function requestsAs(uid: number, requests: Array<{ method: string; path: string; body?: unknown; raw?: string; type?: string }>): Promise<Array<[number, string]>> {
  const script = `
const http = require('node:http');
const requests = ${JSON.stringify(requests)};
(async () => {
  const out = [];
  for (const r of requests) {
    out.push(await new Promise((resolve, reject) => {
      const body = r.raw !== undefined ? r.raw : r.body === undefined ? undefined : JSON.stringify(r.body);
      const req = http.request({ socketPath: ${JSON.stringify(api.socketPath)}, method: r.method, path: r.path,
        headers: body ? { 'Content-Type': r.type || 'application/json', 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => { const b = JSON.parse(text); resolve([res.statusCode, b.kind === 'Status' ? b.reason + ': ' + b.message : (b.items ? b.items.map((i) => i.metadata.name).join(',') : b.metadata.name)]); });
      });
      req.on('error', reject);
      req.end(body);
    }));
  }
  process.stdout.write(JSON.stringify(out));
})();`;
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/node', ['-e', script], { uid, gid: uid, timeout: 8_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`client as uid ${uid} failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as Array<[number, string]>);
    });
  });
}

test('a client running as a sliver account: allowed on its own sliver, refused on others', { timeout: 15_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run a client as another uid');
    return;
  }
  const { client, node } = api;
  const alice = await node.createAccount('alice', 'sliver');
  await node.createAccount('bob', 'sliver');
  await client.create(sliverManifest('alice'));
  await client.create(sliverManifest('bob', { delegations: [{ account: 'alice', methods: ['GetRSpec'] }] }));
  const ownLoan: Loan = { apiVersion: 'nm.planet-lab.org/v1', kind: 'Loan', metadata: { name: 'alice.0' }, spec: { from: 'alice', to: 'bob', resource: 'cpu_share', amount: 4, order: 0 } };
  const foreignLoan: Loan = { ...ownLoan, metadata: { name: 'bob.0' }, spec: { ...ownLoan.spec, from: 'bob', to: 'alice' } };

  const results = await requestsAs(alice.uid, [
    { method: 'GET', path: resourcePath('Sliver', 'alice') },
    { method: 'PATCH', path: resourcePath('Sliver', 'alice'), body: { spec: { run: { state: 'Stopped' } } }, type: CONTENT_TYPES.mergePatch },
    { method: 'PATCH', path: resourcePath('Sliver', 'alice'), body: { spec: { rspec: { cpu_share: 999 } } }, type: CONTENT_TYPES.mergePatch },
    { method: 'GET', path: resourcePath('Sliver', 'bob') },
    { method: 'PATCH', path: resourcePath('Sliver', 'bob'), body: { spec: { run: { state: 'Stopped' } } }, type: CONTENT_TYPES.mergePatch },
    { method: 'POST', path: resourcePath('Loan'), body: ownLoan },
    { method: 'POST', path: resourcePath('Loan'), body: foreignLoan },
    { method: 'DELETE', path: resourcePath('Sliver', 'alice') },
    { method: 'GET', path: `${resourcePath('Sliver')}?labelSelector=` },
    {
      method: 'PUT',
      path: resourcePath('Sliver', 'alice', 'loans'),
      body: loansOf('alice', [
        { to: 'bob', resource: 'cpu_share', amount: 3 },
        { to: 'bob', resource: 'net_max', amount: 9 },
      ]),
    },
    { method: 'PUT', path: resourcePath('Sliver', 'bob', 'loans'), body: loansOf('bob', []) },
    { method: 'GET', path: resourcePath('Sliver', 'alice', 'loans') },
    { method: 'POST', path: resourcePath('Loan'), body: { ...ownLoan, metadata: { name: 'bob.7' } } },
  ]);
  assert.deepEqual(results[0], [200, 'alice']);
  assert.deepEqual(results[1], [200, 'alice']);
  assert.deepEqual(results[2], [403, `Forbidden: user "alice" (uid ${alice.uid}) may not change spec.rspec of sliver "alice": only root may; the sliver's users may change spec.run only`]);
  assert.deepEqual(results[3], [200, 'bob'], 'the delegation on bob grants GetRSpec: read');
  assert.equal(results[4]![0], 403, 'but not Stop');
  assert.match(results[4]![1], /may not stop sliver "bob": only root, the account "bob" or a delegation on sliver "bob" allowing Stop may/);
  assert.deepEqual(results[5], [201, 'alice.0']);
  assert.equal(results[6]![0], 403);
  assert.equal(results[7]![0], 403);
  assert.equal(results[8]![0], 200);
  assert.deepEqual(results[8]![1].split(',').sort(), ['alice', 'bob'], 'a list shows only what the caller may read');
  assert.equal((await client.get('Sliver', 'alice')).spec.run?.state, 'Stopped');
  assert.equal(await client.tryGet('Loan', 'bob.0'), undefined);
  assert.deepEqual(results[9], [200, 'alice'], 'a sliver replaces its own loans');
  assert.equal(results[10]![0], 403);
  assert.match(results[10]![1], /may not replace the loans of sliver "bob": only root, the account "bob" or a delegation on sliver "bob" allowing SetLoans may/);
  assert.deepEqual(results[11], [200, 'alice']);
  assert.deepEqual(results[12], [
    422,
    'Invalid: Loan "bob.7" is invalid: metadata.name: a loan from "alice" must be named "alice.<suffix>" (a suffix without dots), e.g. "alice.0" (loan names are reserved to their lender, spec.from)',
  ]);
  const loans = (await client.list('Loan')).items.map((l) => [l.metadata.name, l.spec.from, l.spec.resource, l.spec.amount, l.spec.order]);
  assert.deepEqual(loans, [
    ['alice.0', 'alice', 'cpu_share', 3, 0],
    ['alice.1', 'alice', 'net_max', 9, 1],
  ]);
});

function loansOf(sliver: string, loans: unknown[]): unknown {
  return { apiVersion: 'nm.planet-lab.org/v1', kind: 'SliverLoans', metadata: { name: sliver }, spec: { loans } };
}

test('a uid without an account on the node is refused with its uid named', { timeout: 15_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run a client as another uid');
    return;
  }
  const [[code, message]] = (await requestsAs(54321, [{ method: 'GET', path: resourcePath('Sliver', 'alice') }])) as [[number, string]];
  assert.equal(code, 403);
  assert.match(message, /uid 54321 \(no account on this node\) may not read sliver "alice"/);
});

test('prototype pollution: member names that reach Object.prototype are refused at the edge; selectors see own labels only', { timeout: 15_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run a client as another uid');
    return;
  }
  const { client, node } = api;
  const carol = await node.createAccount('carol', 'sliver');
  await client.create(sliverManifest('carol'));
  const hostile = '{"spec":{"__proto__":{"zzpolluted":"yes"}}}';
  const apply = `${resourcePath('Sliver', 'carol')}?fieldManager=x`;
  const results = await requestsAs(65534, [
    { method: 'PATCH', path: apply, raw: `{"apiVersion":"nm.planet-lab.org/v1","kind":"Sliver","metadata":{"name":"carol"},${hostile.slice(1)}`, type: CONTENT_TYPES.applyJson },
    { method: 'PATCH', path: resourcePath('Sliver', 'carol'), raw: hostile, type: CONTENT_TYPES.mergePatch },
    { method: 'PATCH', path: resourcePath('Sliver', 'carol'), raw: '{"spec":{"run":{"state":"Stopped"}}}', type: CONTENT_TYPES.mergePatch },
  ]);
  assert.deepEqual(results.slice(0, 2), [
    [400, 'BadRequest: the key "__proto__" at /spec is not allowed: __proto__, constructor, prototype are refused as keys'],
    [400, 'BadRequest: the key "__proto__" at /spec is not allowed: __proto__, constructor, prototype are refused as keys'],
  ]);
  // A stranger is refused before any merge work; the owner is refused the keys all the same.
  assert.equal(results[2]![0], 403);
  const own = await requestsAs(carol.uid, [
    { method: 'PATCH', path: resourcePath('Sliver', 'carol'), raw: '[{"op":"add","path":"/spec/constructor/prototype/zzpolluted","value":1}]', type: CONTENT_TYPES.jsonPatch },
    { method: 'PATCH', path: resourcePath('Sliver', 'carol'), raw: '{"metadata":{"labels":{"prototype":"x"}}}', type: CONTENT_TYPES.mergePatch },
  ]);
  assert.deepEqual(
    own.map(([code]) => code),
    [400, 400],
  );
  assert.equal(({} as Record<string, unknown>).zzpolluted, undefined, 'Object.prototype is untouched');
  assert.equal((await client.request('GET', '/metrics')).code, 200, 'and the server (prom-client included) still serves');

  const list = (selector: string) => client.list('Sliver', { labelSelector: selector }).then((l) => l.items.map((s) => s.metadata.name));
  assert.deepEqual(await list('constructor'), []);
  assert.deepEqual(await list('toString'), []);
  assert.ok((await list('!constructor')).includes('carol'));
  assert.deepEqual((await client.list('Sliver', { fieldSelector: 'constructor' })).items, []);
});

test("a node's API has no namespaces and no nodes: those paths are 404 saying the fleet API has them; a body in a namespace is refused", { timeout: 10_000 }, async () => {
  await rejectsWith(api.client.request('GET', resourcePath('Sliver', undefined, undefined, 'node-7')), 'NotFound', /a node's API has no namespaces \(the fleet API/);
  await rejectsWith(api.client.request('GET', '/apis/nm.planet-lab.org/v1/nodes'), 'NotFound', /nodes are served by the fleet API/);
  await rejectsWith(
    api.client.request('POST', resourcePath('Sliver'), { body: sliverManifest('in_a_namespace', {}, { namespace: 'node-7' }) }),
    'BadRequest',
    /namespace "node-7", but this API has no namespaces/,
  );
  assert.equal(await api.client.tryGet('Sliver', 'in_a_namespace'), undefined);
});
