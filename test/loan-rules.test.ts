// The pure loan rules against the original's vectors (py2 int parsing, SetLoans validation).
// Full scenario replay through the store and controller lives in the controller tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseLoanList, parsePy2Int, DEFAULT_RSPEC, LOAN_MINIMUM } from '../resources/rspec.js';
import { LOANABLE_RESOURCES } from '../resources/types.js';

const raw = readFileSync(new URL('../../shared/reference/loan_vectors.json', import.meta.url), 'utf8');
const vectors = JSON.parse(raw);
// JSON.parse turns 1.0 into 1; keep floats distinguishable (a Float box is not an integer).
class Float {
  constructor(readonly value: number) {}
}
const floatTagged = JSON.parse(raw.replace(/(?<=[\[,\s])(-?\d+\.\d+)(?=[\],\s])/g, '{"__float": $1}'), (_key, value) =>
  value && typeof value === 'object' && '__float' in value ? new Float(value.__float) : value,
);

test('constants match the original', () => {
  assert.deepEqual({ ...DEFAULT_RSPEC }, vectors.constants.DEFAULT_ALLOCATION);
  assert.deepEqual({ ...LOAN_MINIMUM }, vectors.constants.MINIMUM_ALLOCATION);
  assert.deepEqual([...LOANABLE_RESOURCES].sort(), [...vectors.constants.LOANABLE_RESOURCES].sort());
});

test('Python 2 int() parsing matches every vector', () => {
  for (const { input, result } of vectors.py2_int) {
    assert.equal(parsePy2Int(input), result === 'ValueError' ? undefined : result, `int(${JSON.stringify(input)})`);
  }
});

test('SetLoans validation matches every vector', () => {
  assert.ok(JSON.stringify(floatTagged.validate_loans).includes('"value":1'), 'the float vector is kept as a float');
  for (const { input, valid } of floatTagged.validate_loans) {
    assert.equal(parseLoanList(input) !== undefined, valid, `validate_loans(${JSON.stringify(input)})`);
  }
});
