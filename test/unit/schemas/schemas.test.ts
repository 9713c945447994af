// The exported JSON Schema files are exactly what the typed schemas render (npm run schemas), and
// every field of every kind is described.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderedSchemas } from '../../../scripts/export-schemas.js';
import { SCHEMAS } from '../../../schemas/kinds.js';
import { DESCRIPTIONS } from '../../../schemas/descriptions.js';
import { KINDS } from '../../../schemas/types.js';

test('schemas/*.schema.json match the TypeScript schemas (run `npm run schemas` after changing them)', () => {
  for (const [file, text] of Object.entries(renderedSchemas())) {
    assert.equal(readFileSync(file, 'utf8'), text, `${file} is stale`);
  }
});

/** Every field path of a schema; an array's items share its path (as schemas/descriptions.ts keys them). */
function fieldPaths(schema: SchemaNode, path = ''): [string, SchemaNode][] {
  if (schema.type === 'array' && schema.items) return fieldPaths(schema.items, path);
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const childPath = path ? `${path}.${name}` : name;
    return [[childPath, child] as [string, SchemaNode], ...fieldPaths(child, childPath)];
  });
}

interface SchemaNode {
  type?: string;
  description?: string;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
}

test('every field of every kind has a description (kubectl explain, slvctl explain), and every description a field', () => {
  for (const kind of KINDS) {
    const fields = fieldPaths(SCHEMAS[kind] as unknown as SchemaNode);
    const undescribed = fields.filter(([, node]) => !node.description?.trim()).map(([path]) => path);
    assert.deepEqual(undescribed, [], `${kind} fields without a description`);
    const known = new Set(fields.map(([path]) => path));
    assert.deepEqual(
      Object.keys(DESCRIPTIONS[kind]).filter((path) => !known.has(path)),
      [],
      `${kind} descriptions of no field`,
    );
  }
});

test('rate and size fields say their unit', () => {
  const rspec = (SCHEMAS.Sliver as unknown as SchemaNode).properties!.spec!.properties!.rspec!.properties!;
  for (const key of ['net_min', 'net_max', 'net2_min', 'net2_max']) assert.match(rspec[key]!.description!, /bit\/s/, key);
  assert.match(rspec.disk_max!.description!, /KiB/);
  assert.match(rspec.cpu_min!.description!, /thousandths of a CPU/);
});
