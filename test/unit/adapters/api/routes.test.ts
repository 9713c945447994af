// The REST paths, node and fleet: what parses to what, and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodesPath, parseNodesPath, parseResourcePath, resourcePath } from '../../../../adapters/api/routes.js';
import { NotFoundError } from '../../../../resources/errors.js';

const G = '/apis/nm.planet-lab.org/v1';

test('namespaced paths carry the namespace; the same paths without one are a node API path', () => {
  assert.deepEqual(parseResourcePath(`${G}/namespaces/node-7/slivers`), { kind: 'Sliver', namespace: 'node-7' });
  assert.deepEqual(parseResourcePath(`${G}/namespaces/node-7/slivers/alice/status`), { kind: 'Sliver', namespace: 'node-7', name: 'alice', subresource: 'status' });
  assert.deepEqual(parseResourcePath(`${G}/slivers/alice`), { kind: 'Sliver', name: 'alice' });
  for (const [kind, name, subresource, namespace] of [
    ['Sliver', 'a b', 'loans', 'n1'],
    ['Loan', 'x.cpu', undefined, undefined],
    ['Delegate', undefined, undefined, 'n2'],
  ] as const) {
    const path = resourcePath(kind, name, subresource, namespace);
    assert.deepEqual(parseResourcePath(path), { kind, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) }, path);
  }
  assert.throws(() => parseResourcePath(`${G}/namespaces/n1/widgets`), NotFoundError);
  assert.throws(() => parseResourcePath(`${G}/namespaces/n1/slivers/a/b/c`), NotFoundError);
  assert.throws(() => parseResourcePath(`${G}/namespaces/n1`), NotFoundError);
});

test('nodes are not a kind of the store: their own paths', () => {
  assert.equal(parseResourcePath(`${G}/nodes`), undefined);
  assert.equal(parseResourcePath(`${G}/nodes/n1`), undefined);
  assert.deepEqual(parseNodesPath(nodesPath()), {});
  assert.deepEqual(parseNodesPath(nodesPath('n1')), { name: 'n1' });
  assert.equal(parseNodesPath(`${G}/slivers`), undefined);
  assert.throws(() => parseNodesPath(`${G}/nodes/n1/x`), NotFoundError);
});
