// The exported JSON Schema files are exactly what the typed schemas render (npm run schemas).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderedSchemas } from '../../../scripts/export-schemas.js';

test('schemas/*.schema.json match the TypeScript schemas (run `npm run schemas` after changing them)', () => {
  for (const [file, text] of Object.entries(renderedSchemas())) {
    assert.equal(readFileSync(file, 'utf8'), text, `${file} is stale`);
  }
});
