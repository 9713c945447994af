// resources/authz.ts: the REST authorization rules, called directly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize, mayRead, type AccessRequest, type Caller } from '../../../resources/authz.js';
import { ForbiddenError } from '../../../resources/errors.js';
import { API_VERSION, type Delegate, type Delegation, type Loan, type SlvEvent, type Sliver } from '../../../schemas/types.js';

const root: Caller = { uid: 0, account: 'root' };
const alice: Caller = { uid: 1001, account: 'alice' };
const bob: Caller = { uid: 1002, account: 'bob' };
const carol: Caller = { uid: 1003, account: 'carol' };
const stranger: Caller = { uid: 4242, account: undefined };

function sliver(name: string, delegations: Delegation[] = [], run?: Sliver['spec']['run']): Sliver {
  return {
    apiVersion: API_VERSION,
    kind: 'Sliver',
    metadata: { name, resourceVersion: '3' },
    spec: { type: 'sliver.VServer', instantiation: 'plc-instantiated', keys: [], initscript: '', rspec: {}, delegations, timestamp: 1, attributes: {}, ...(run ? { run } : {}) },
  };
}
function loan(from: string, to = 'bob'): Loan {
  return { apiVersion: API_VERSION, kind: 'Loan', metadata: { name: `${from}.0` }, spec: { from, to, resource: 'cpu_share', amount: 5, order: 0 } };
}
function event(kind: 'Sliver' | 'Loan', name: string): SlvEvent {
  const time = '2026-01-01T00:00:00Z';
  return {
    apiVersion: API_VERSION,
    kind: 'Event',
    metadata: { name: `${name}.1` },
    spec: { involvedObject: { kind, name }, type: 'Normal', reason: 'Created', message: 'm', count: 1, firstTimestamp: time, lastTimestamp: time, source: 'account' },
  };
}

const slivers = new Map<string, Sliver>([
  ['alice', sliver('alice', [{ account: 'bob', methods: ['GetRSpec', 'Start'] }, { account: 'carol' }])],
  ['bob', sliver('bob')],
]);
const lookup = (name: string) => slivers.get(name);

function allowed(request: AccessRequest): boolean {
  try {
    authorize(request, lookup);
    return true;
  } catch (error) {
    assert.ok(error instanceof ForbiddenError, `unexpected error ${String(error)}`);
    return false;
  }
}

test('root may do everything, including what nobody else may', { timeout: 5_000 }, () => {
  const alice_ = slivers.get('alice')!;
  assert.ok(allowed({ caller: root, verb: 'delete', kind: 'Sliver', current: alice_ }));
  assert.ok(allowed({ caller: root, verb: 'updateStatus', kind: 'Sliver', current: alice_, desired: alice_ }));
  const delegate: Delegate = { apiVersion: API_VERSION, kind: 'Delegate', metadata: { name: 'pl_d' }, spec: { keys: [], timestamp: 0 } };
  assert.ok(allowed({ caller: root, verb: 'create', kind: 'Delegate', desired: delegate }));
  assert.ok(!allowed({ caller: alice, verb: 'read', kind: 'Delegate', current: delegate }));
});

test('a sliver account reads its own sliver and its events, not others', { timeout: 5_000 }, () => {
  assert.ok(mayRead(alice, slivers.get('alice')!, lookup));
  assert.ok(!mayRead(alice, slivers.get('bob')!, lookup));
  assert.ok(mayRead(alice, event('Sliver', 'alice'), lookup));
  assert.ok(!mayRead(alice, event('Sliver', 'bob'), lookup));
  assert.ok(!mayRead(alice, event('Loan', 'alice.0'), lookup), 'events about other kinds are root-only');
  assert.ok(!mayRead(stranger, slivers.get('alice')!, lookup));
});

test('a sliver account sets its run state but nothing else of its spec', { timeout: 5_000 }, () => {
  const current = slivers.get('alice')!;
  assert.ok(allowed({ caller: alice, verb: 'update', kind: 'Sliver', current, desired: sliver('alice', current.spec.delegations, { state: 'Stopped' }) }));
  const widened = structuredClone(current);
  widened.spec.rspec.cpu_share = 1000;
  assert.throws(
    () => authorize({ caller: alice, verb: 'update', kind: 'Sliver', current, desired: widened }, lookup),
    /user "alice" \(uid 1001\) may not change spec\.rspec of sliver "alice": only root may/,
  );
  const relabelled = structuredClone(current);
  relabelled.metadata.labels = { team: 'x' };
  assert.ok(!allowed({ caller: alice, verb: 'update', kind: 'Sliver', current, desired: relabelled }));
  assert.ok(!allowed({ caller: alice, verb: 'delete', kind: 'Sliver', current }));
  assert.ok(!allowed({ caller: alice, verb: 'updateStatus', kind: 'Sliver', current, desired: current }));
  assert.ok(!allowed({ caller: alice, verb: 'create', kind: 'Sliver', desired: sliver('alice') }));
});

test('a delegation grants exactly the listed methods, an empty list grants all', { timeout: 5_000 }, () => {
  const current = slivers.get('alice')!;
  const stopped = sliver('alice', current.spec.delegations, { state: 'Stopped' });
  const started = sliver('alice', current.spec.delegations, { state: 'Running' });
  // bob: GetRSpec and Start only.
  assert.ok(mayRead(bob, current, lookup));
  assert.ok(!allowed({ caller: bob, verb: 'update', kind: 'Sliver', current, desired: stopped }), 'Stop is not delegated to bob');
  assert.ok(allowed({ caller: bob, verb: 'update', kind: 'Sliver', current: stopped, desired: started }), 'Start is');
  assert.ok(!allowed({ caller: bob, verb: 'create', kind: 'Loan', desired: loan('alice') }), 'SetLoans is not');
  assert.throws(() => authorize({ caller: bob, verb: 'update', kind: 'Sliver', current, desired: sliver('alice', current.spec.delegations, { recreate: 1 }) }, lookup), /allowing ReCreate/);
  assert.ok(allowed({ caller: bob, verb: 'update', kind: 'Sliver', current, desired: sliver('alice', current.spec.delegations, { start: 1 }) }), 'a Start request is Start');
  const dave: Caller = { uid: 1004, account: 'dave' };
  const readOnly = sliver('alice', [{ account: 'dave', methods: ['GetRSpec'] }]);
  const byDave = (run: Sliver['spec']['run']) => allowed({ caller: dave, verb: 'update', kind: 'Sliver', current: readOnly, desired: sliver('alice', readOnly.spec.delegations, run) });
  assert.ok(byDave({ state: 'Running' }), 'spelling out the default state changes nothing');
  for (const run of [{ start: 1 }, { state: 'Stopped' as const }, { instantiated: false }, { instantiated: true }, { recreate: 2 }]) assert.ok(!byDave(run), JSON.stringify(run));
  // carol: a delegation without methods allows every operation, but still not spec changes.
  assert.ok(allowed({ caller: carol, verb: 'update', kind: 'Sliver', current, desired: stopped }));
  assert.ok(allowed({ caller: carol, verb: 'create', kind: 'Loan', desired: loan('alice') }));
  assert.ok(!allowed({ caller: carol, verb: 'delete', kind: 'Sliver', current }));
  // Delegations on alice say nothing about bob's sliver.
  assert.ok(!mayRead(carol, slivers.get('bob')!, lookup));
});

test('delegations are read from the stored sliver, so a caller cannot grant itself access', { timeout: 5_000 }, () => {
  const current = slivers.get('bob')!;
  const selfGranted = sliver('bob', [{ account: 'alice' }], { state: 'Stopped' });
  assert.ok(!allowed({ caller: alice, verb: 'update', kind: 'Sliver', current, desired: selfGranted }));
});

test('loans: the lender manages its own, and cannot move one to another lender', { timeout: 5_000 }, () => {
  assert.ok(allowed({ caller: alice, verb: 'create', kind: 'Loan', desired: loan('alice') }));
  assert.ok(allowed({ caller: alice, verb: 'delete', kind: 'Loan', current: loan('alice') }));
  assert.ok(mayRead(alice, loan('alice'), lookup));
  assert.throws(() => authorize({ caller: alice, verb: 'create', kind: 'Loan', desired: loan('bob', 'alice') }, lookup), /may not create loan "bob\.0" of sliver "bob"/);
  assert.ok(!allowed({ caller: alice, verb: 'update', kind: 'Loan', current: loan('alice'), desired: loan('bob') }));
  assert.ok(!allowed({ caller: alice, verb: 'updateStatus', kind: 'Loan', current: loan('alice'), desired: loan('alice') }));
  assert.ok(!allowed({ caller: stranger, verb: 'create', kind: 'Loan', desired: loan('alice') }));
});
