// resources/kube-discovery.ts: OpenAPI from the kinds' JSON Schemas; resources/columns.ts: Tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubernetesTable } from '../../../resources/columns.js';
import { definitionName, openApiV2, openApiV3, resourceList } from '../../../resources/kube-discovery.js';
import { KINDS, type Loan } from '../../../schemas/types.js';

type Definitions = Record<string, Record<string, unknown>>;

/** Every schema object in a document, depth first. */
function schemasIn(value: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(value)) value.forEach((item) => schemasIn(item, out));
  else if (typeof value === 'object' && value !== null) {
    out.push(value as Record<string, unknown>);
    Object.values(value).forEach((child) => schemasIn(child, out));
  }
  return out;
}

test('OpenAPI schemas: no JSON Schema keywords OpenAPI lacks; nullable only in v3', { timeout: 5_000 }, () => {
  const v2 = (openApiV2() as { definitions: Definitions }).definitions;
  const v3 = (openApiV3() as { components: { schemas: Definitions } }).components.schemas;
  for (const kind of KINDS) {
    assert.ok(v2[definitionName(kind)] && v3[definitionName(kind)], kind);
  }
  for (const [version, document] of [
    ['v2', v2],
    ['v3', v3],
  ] as const) {
    for (const schema of schemasIn(document)) {
      assert.ok(!('$id' in schema) && !('const' in schema), `${version}: $id or const left in ${JSON.stringify(schema).slice(0, 80)}`);
      if (Array.isArray(schema.required)) assert.ok(schema.required.length > 0, `${version}: an empty required list`);
    }
  }
  assert.ok(!JSON.stringify(v2).includes('"nullable"'));
  assert.ok(JSON.stringify(v3).includes('"nullable":true'));
});

test('the resource list: one short name each, the all category: slivers, delegates, loans', { timeout: 5_000 }, () => {
  const resources = (resourceList() as { resources: Array<{ name: string; shortNames?: string[]; categories?: string[] }> }).resources;
  assert.deepEqual(
    resources.filter((r) => r.shortNames).map((r) => [r.name, r.shortNames]),
    [
      ['slivers', ['sl']],
      ['delegates', ['dg']],
      ['loans', ['ln']],
      ['events', ['ev']],
      ['nodeconfigs', ['nc']],
    ],
  );
  assert.deepEqual(
    resources.filter((r) => r.categories).map((r) => r.name),
    ['slivers', 'delegates', 'loans'],
  );
});

test('a Table: cells in column order, wide columns at priority 1, rows with metadata or the object', { timeout: 5_000 }, () => {
  const loan: Loan = {
    apiVersion: 'nm.planet-lab.org/v1',
    kind: 'Loan',
    metadata: { name: 'alice.0', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { from: 'alice', to: 'bob', resource: 'cpu_share', amount: 3, order: 0 },
    status: { granted: false, reason: 'InsufficientResidual' },
  };
  const nowMs = Date.parse('2026-01-01T00:01:00Z');
  const table = kubernetesTable('Loan', [loan], { nowMs, resourceVersion: '9', includeObject: 'Object' }) as {
    metadata: unknown;
    columnDefinitions: Array<{ name: string; priority: number }>;
    rows: Array<{ cells: string[]; object: unknown }>;
  };
  assert.deepEqual(table.metadata, { resourceVersion: '9' });
  assert.deepEqual(
    table.columnDefinitions.map((c) => `${c.name}:${c.priority}`),
    ['NAME:0', 'FROM:0', 'TO:0', 'RESOURCE:0', 'AMOUNT:0', 'GRANTED:0', 'AGE:0', 'ORDER:1', 'REASON:1'],
  );
  assert.deepEqual(table.rows[0]!.cells, ['alice.0', 'alice', 'bob', 'cpu_share', '3', 'false', '60s', '0', 'InsufficientResidual']);
  assert.equal(table.rows[0]!.object, loan);
  const partial = kubernetesTable('Loan', [loan], { nowMs, includeObject: 'Metadata' }) as { rows: Array<{ object: unknown }> };
  assert.deepEqual(partial.rows[0]!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: loan.metadata });
});

test("the fleet API's discovery: every kind namespaced, nodes cluster-scoped and read-only, no slivers/log; OpenAPI paths under /namespaces/{namespace}/", { timeout: 5_000 }, () => {
  type Resource = { name: string; namespaced: boolean; verbs: string[]; shortNames?: string[] };
  const node = (resourceList('node') as { resources: Resource[] }).resources;
  const fleet = (resourceList('fleet') as { resources: Resource[] }).resources;
  assert.ok(node.every((r) => !r.namespaced));
  assert.ok(!node.some((r) => r.name === 'nodes'), "a node's API has no nodes");
  assert.deepEqual(
    fleet.filter((r) => !r.namespaced).map((r) => [r.name, r.shortNames, r.verbs]),
    [['nodes', ['no'], ['get', 'list']]],
  );
  // Only a node keeps its slivers' init script output: the fleet lists every other resource of a node's, and nodes.
  assert.ok(node.some((r) => r.name === 'slivers/log'));
  assert.deepEqual(
    fleet.map((r) => r.name),
    [...node.map((r) => r.name).filter((name) => name !== 'slivers/log'), 'nodes'],
  );
  const paths = Object.keys((openApiV3('fleet') as { paths: Record<string, unknown> }).paths);
  assert.ok(paths.includes('/apis/nm.planet-lab.org/v1/namespaces/{namespace}/slivers/{name}'), paths.join(' '));
  assert.ok(!paths.some((path) => !path.includes('/namespaces/{namespace}/')));
});
