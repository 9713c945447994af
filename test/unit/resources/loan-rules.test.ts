// The pure loan rules against the original's vectors (py2 int parsing, SetLoans validation).
// Full scenario replay through the store and controller lives in the controller tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLoanList, parsePy2Int, DEFAULT_RSPEC, LOAN_MINIMUM } from '../../../resources/rspec.js';
import { LOANABLE_RESOURCES } from '../../../schemas/types.js';
import { JsonFloat, loadLoanVectors } from '../../support/reference-vectors.js';

const vectors = loadLoanVectors() as {
  constants: { DEFAULT_ALLOCATION: unknown; MINIMUM_ALLOCATION: unknown; LOANABLE_RESOURCES: string[] };
  py2_int: Array<{ input: string; result: number | 'ValueError' }>;
  validate_loans: Array<{ input: unknown; valid: boolean }>;
};

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
  assert.ok(
    vectors.validate_loans.some(({ input }) => Array.isArray(input) && input.some((loan) => Array.isArray(loan) && loan[2] instanceof JsonFloat)),
    'the float vector is kept as a float',
  );
  for (const { input, valid } of vectors.validate_loans) {
    assert.equal(parseLoanList(input) !== undefined, valid, `validate_loans(${JSON.stringify(input)})`);
  }
});
