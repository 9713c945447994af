// A lender's loan list as one transaction, and whose a Loan name is: pure rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lenderOfLoanName, loanNameProblem } from '../../../resources/loan-names.js';
import { parseSliverLoans, planLoanReplacement } from '../../../resources/loans.js';
import { API_VERSION, type Loan } from '../../../schemas/types.js';

const OPTIONS = { fieldManager: 'SetLoans', now: '2024-01-01T00:00:00Z' };

function stored(name: string, from: string, to: string, amount: number, order: number, resourceVersion: string): Loan {
  return { apiVersion: API_VERSION, kind: 'Loan', metadata: { name, resourceVersion }, spec: { from, to, resource: 'cpu_share', amount, order }, status: { granted: true } };
}

test('a replacement updates the loans at their positions, creates the new ones and deletes the rest, guarded by the versions read', () => {
  const existing = [
    stored('alice.0', 'alice', 'bob', 1, 0, '7'),
    stored('alice.1', 'alice', 'bob', 2, 1, '8'),
    stored('alice.extra', 'alice', 'carol', 3, 2, '9'),
    stored('alice.5', 'mallory', 'carol', 4, 0, '10'),
    stored('bob.0', 'bob', 'alice', 5, 0, '11'),
  ];
  const operations = planLoanReplacement(
    existing,
    {
      lender: 'alice',
      loans: [
        ['bob', 'cpu_share', 1],
        ['carol', 'net_max', 20],
        ['bob', 'cpu_min', 3],
      ],
    },
    OPTIONS,
  );
  const summary = operations.map((op) => (op.type === 'delete' ? ['delete', op.name, op.resourceVersion] : [op.type, op.object.metadata.name, op.object.metadata.resourceVersion, op.object.spec]));
  assert.deepEqual(summary, [
    ['delete', 'alice.extra', '9'],
    ['delete', 'alice.5', '10'],
    ['update', 'alice.0', '7', { from: 'alice', to: 'bob', resource: 'cpu_share', amount: 1, order: 0 }],
    ['update', 'alice.1', '8', { from: 'alice', to: 'carol', resource: 'net_max', amount: 20, order: 1 }],
    ['create', 'alice.2', undefined, { from: 'alice', to: 'bob', resource: 'cpu_min', amount: 3, order: 2 }],
  ]);
  const created = operations.at(-1);
  assert.ok(created?.type === 'create');
  assert.deepEqual(
    created.object.metadata.managedFields?.map((m) => [m.manager, m.operation]),
    [['SetLoans', 'Update']],
  );
});

test('an empty list deletes every loan of the lender and nothing else', () => {
  const operations = planLoanReplacement([stored('alice.0', 'alice', 'bob', 1, 0, '3'), stored('bob.0', 'bob', 'alice', 1, 0, '4')], { lender: 'alice', loans: [] }, OPTIONS);
  assert.deepEqual(operations, [{ type: 'delete', kind: 'Loan', name: 'alice.0', resourceVersion: '3' }]);
});

test('a loan name belongs to the sliver before its last dot', () => {
  assert.equal(lenderOfLoanName('princeton_codeen.0'), 'princeton_codeen');
  assert.equal(lenderOfLoanName('a.b.c'), 'a.b', 'the suffix holds no dot');
  assert.equal(lenderOfLoanName('ple.x_slice.0'), 'ple.x_slice', 'a slice name with dots lends');
  assert.equal(loanNameProblem('ple.x_slice.0', 'ple.x_slice'), undefined);
  assert.match(loanNameProblem('ple.x_slice.0', 'ple') ?? '', /a loan from "ple" must be named "ple\.<suffix>"/);
  assert.equal(lenderOfLoanName('nodot'), undefined);
  assert.equal(lenderOfLoanName('trailing.'), undefined);
  assert.equal(loanNameProblem('mit_ron.0', 'mit_ron'), undefined);
  assert.match(loanNameProblem('princeton_codeen.0', 'mit_ron') ?? '', /a loan from "mit_ron" must be named "mit_ron\.<suffix>" \(a suffix without dots\), e\.g\. "mit_ron\.0"/);
});

test('a SliverLoans body is checked field by field', () => {
  const body = (loans: unknown, extra: object = {}) => ({ apiVersion: API_VERSION, kind: 'SliverLoans', metadata: { name: 'alice' }, spec: { loans }, ...extra });
  assert.deepEqual(parseSliverLoans(body([{ to: 'bob', resource: 'cpu_share', amount: 5 }]), 'alice'), { lender: 'alice', loans: [['bob', 'cpu_share', 5]] });
  assert.throws(() => parseSliverLoans(body([{ to: 'bob', resource: 'disk_max', amount: 5 }]), 'alice'), /spec\.loans\[0\]: must be \{to: sliver name/);
  assert.throws(() => parseSliverLoans(body([{ to: 'bob', resource: 'cpu_share', amount: 1.5 }]), 'alice'), /spec\.loans\[0\]/);
  assert.throws(() => parseSliverLoans(body('x'), 'alice'), /spec\.loans: must be a list/);
  assert.throws(() => parseSliverLoans({ ...body([]), kind: 'Loan' }, 'alice'), /kind: must be SliverLoans/);
  assert.throws(() => parseSliverLoans({ ...body([]), metadata: { name: 'bob' } }, 'alice'), /metadata\.name: must be "alice"/);
  assert.throws(() => parseSliverLoans(null, 'alice'), /must be a SliverLoans object/);
});
