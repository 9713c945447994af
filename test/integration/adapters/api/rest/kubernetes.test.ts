// The REST API's Kubernetes conventions over its loopback TCP listener: discovery, OpenAPI, Table
// answers, watch bookmarks, and the same identity as on the Unix socket.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { columnsOf } from '../../../../../resources/columns.js';
import { API_VERSION } from '../../../../../schemas/types.js';
import { sliverManifest, startTestApi, type TestApi } from '../../../../support/api-harness.js';
import { freePort } from '../../../../support/xmlrpc-harness.js';

/** Over TCP this process is the caller: only as root does it read every sliver (another uid reads only its own). */
const NEEDS_ROOT = process.getuid?.() === 0 ? false : 'needs root: this process, the caller over TCP, must read every sliver';

let api: TestApi;
let port: number;
before(async () => {
  port = await freePort();
  api = await startTestApi({ port, bookmarkIntervalMs: 50 });
  await api.store.create(sliverManifest('alice', { rspec: { cpu_share: 7 } }));
});
after(() => api.close());

interface Answer {
  code: number;
  type: string;
  body: string;
}

/** One request over TCP; `until` ends a streaming answer once the body matches it. */
function get(path: string, headers: Record<string, string> = {}, until?: RegExp): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      const answer = () => ({ code: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body });
      res.on('data', (chunk: string) => {
        body += chunk;
        if (until?.test(body)) {
          resolve(answer());
          req.destroy();
        }
      });
      res.on('end', () => resolve(answer()));
    });
    req.on('error', reject);
    req.end();
  });
}

const json = async <T>(path: string, headers?: Record<string, string>): Promise<T> => {
  const answer = await get(path, headers);
  assert.equal(answer.code, 200, `${path}: ${answer.body}`);
  return JSON.parse(answer.body) as T;
};

test('discovery: the group, its resources with short names and categories, version.Info', async () => {
  assert.deepEqual(
    (await json<{ groups: Array<{ name: string }> }>('/apis')).groups.map((g) => g.name),
    ['nm.planet-lab.org'],
  );
  assert.deepEqual((await json<{ versions: unknown[] }>('/api')).versions, []);
  const list = await json<{ groupVersion: string; resources: Array<{ name: string; shortNames?: string[]; categories?: string[]; namespaced: boolean }> }>(`/apis/${API_VERSION}`);
  assert.equal(list.groupVersion, API_VERSION);
  const slivers = list.resources.find((r) => r.name === 'slivers')!;
  assert.deepEqual([slivers.shortNames, slivers.categories, slivers.namespaced], [['sl'], ['all'], false]);
  assert.equal(list.resources.find((r) => r.name === 'events')!.categories, undefined, 'events are not in all, as in kubectl');
  const version = await json<{ gitVersion: string; major: string }>('/version');
  assert.match(version.gitVersion, /^v\d+\.\d+\.\d+/);
});

test('OpenAPI: v3 index, the group document with each kind by group-version-kind, v2 as JSON only', async () => {
  const index = await json<{ paths: Record<string, { serverRelativeURL: string }> }>('/openapi/v3');
  const url = index.paths[`apis/${API_VERSION}`]!.serverRelativeURL;
  assert.match(url, /\?hash=[0-9a-f]{8}$/);
  const document = await json<{ components: { schemas: Record<string, { 'x-kubernetes-group-version-kind': unknown; properties: Record<string, unknown> }> } }>(url);
  const sliver = document.components.schemas['org.planet-lab.nm.v1.Sliver']!;
  assert.deepEqual(sliver['x-kubernetes-group-version-kind'], [{ group: 'nm.planet-lab.org', version: 'v1', kind: 'Sliver' }]);
  assert.deepEqual(sliver.properties.kind, { type: 'string', enum: ['Sliver'], description: 'Always Sliver.' }, 'const as a one-value enum, the description kept');
  const v2 = await json<{ swagger: string; definitions: Record<string, unknown> }>('/openapi/v2', { Accept: 'application/json' });
  assert.equal(v2.swagger, '2.0');
  assert.ok(!JSON.stringify(v2).includes('"nullable"'), 'OpenAPI v2 has no nullable');
  const protobuf = await get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  assert.equal(protobuf.code, 406);
  assert.equal((JSON.parse(protobuf.body) as { reason: string }).reason, 'NotAcceptable');
});

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

test('a Table answers kubectl get: the columns of slvctl get -o wide, the wide ones at priority 1', { skip: NEEDS_ROOT }, async () => {
  const table = await json<{
    kind: string;
    metadata: { resourceVersion: string };
    columnDefinitions: Array<{ name: string; priority: number }>;
    rows: Array<{ cells: string[]; object: { kind: string; metadata: { name: string } } }>;
  }>(`/apis/${API_VERSION}/slivers`, { Accept: TABLE });
  assert.equal(table.kind, 'Table');
  assert.match(table.metadata.resourceVersion, /^\d+$/);
  assert.deepEqual(
    table.columnDefinitions.map((c) => [c.name, c.priority]),
    columnsOf('Sliver', true).map((c) => [c.name, c.wide ? 1 : 0]),
  );
  const row = table.rows.find((r) => r.cells[0] === 'alice')!;
  assert.equal(row.cells[table.columnDefinitions.findIndex((c) => c.name === 'CPU_SHARE')], '7');
  assert.deepEqual([row.object.kind, row.object.metadata.name], ['PartialObjectMetadata', 'alice']);
  const bare = await json<{ rows: Array<{ object?: unknown }> }>(`/apis/${API_VERSION}/slivers/alice?includeObject=None`, { Accept: TABLE });
  assert.equal(bare.rows.length, 1);
  assert.equal(bare.rows[0]!.object, undefined);
  const plain = await json<{ kind: string }>(`/apis/${API_VERSION}/slivers/alice`);
  assert.equal(plain.kind, 'Sliver', 'without the Table media type, the object');
});

test('a watch with allowWatchBookmarks gets bookmarks naming the revision delivered', async () => {
  const revision = api.store.revision();
  const answer = await get(`/apis/${API_VERSION}/slivers?watch=1&allowWatchBookmarks=true&resourceVersion=${revision}`, {}, /"BOOKMARK"/);
  const bookmark = JSON.parse(answer.body.split('\n').find((line) => line.includes('BOOKMARK'))!) as { object: { kind: string; metadata: { resourceVersion: string } } };
  assert.deepEqual(bookmark.object, { apiVersion: API_VERSION, kind: 'Sliver', metadata: { resourceVersion: String(revision) } });
});

test('on TCP the caller is identified by uid as on the Unix socket: root (this process) reads every sliver', { skip: NEEDS_ROOT }, async () => {
  const list = await json<{ kind: string; items: Array<{ metadata: { name: string } }> }>(`/apis/${API_VERSION}/slivers`);
  assert.equal(list.kind, 'SliverList');
  assert.deepEqual(
    list.items.map((s) => s.metadata.name),
    ['alice'],
  );
});
