// Converting GetSlivers answers (docs/behaviour.md §2, §4) and planning the store changes: pure rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_RSPEC } from '../../../resources/rspec.js';
import { convertSliverRecord, parseDelegations, parseGetSlivers, planPlcSync, type PlcRecord, type StoredRecord } from '../../../resources/plc-records.js';
import { GETSLIVERS_SAMPLE_URL } from '../../support/reference-vectors.js';

const sample: unknown = JSON.parse(readFileSync(GETSLIVERS_SAMPLE_URL, 'utf8'));

test('the reference answer converts to three Slivers and one Delegate', () => {
  const [update, ...rest] = parseGetSlivers(sample);
  assert.equal(rest.length, 0);
  assert.equal(update?.timestamp, 1162224000);
  const byName = new Map(update?.records.map((r) => [r.name, r]));
  const sirius = byName.get('princeton_sirius');
  assert.equal(sirius?.kind, 'Sliver');
  assert.ok(sirius?.kind === 'Sliver');
  assert.deepEqual(sirius.spec, {
    type: 'sliver.VServer',
    instantiation: 'plc-instantiated',
    keys: ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 sirius@princeton'],
    initscript: '#!/bin/sh\necho started > /tmp/sirius.started\n',
    rspec: { ...DEFAULT_RSPEC, cpu_min: 200, net_max: 10000000 },
    delegations: [],
    timestamp: 1162224000,
    attributes: { cpu_min: '200', net_max: '10000000', initscript: '#!/bin/sh\necho started > /tmp/sirius.started\n' },
    expires: 1893456000,
    extra: { slice_id: 301 },
  });
  const delegated = byName.get('utah_elab_delegated');
  assert.ok(delegated?.kind === 'Sliver');
  assert.deepEqual(delegated.spec.delegations, [{ account: 'del_snoop' }]);
  assert.equal(delegated.spec.instantiation, 'delegated');
  const snoop = byName.get('del_snoop');
  assert.equal(snoop?.kind, 'Delegate');
  assert.deepEqual(snoop?.spec, { keys: ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDx snoop@plc'], timestamp: 1162224000, instantiation: 'nm-controller', attributes: {}, extra: { slice_id: 304 } });
});

test('a single node struct is accepted as well as a list', () => {
  const node = (sample as unknown[])[0];
  assert.deepEqual(parseGetSlivers(node), parseGetSlivers(sample));
});

test('rspec attributes parse as Python 2 int(); unparsable ones take the default', () => {
  const attributes = [
    { name: 'cpu_share', value: ' - 5 ' },
    { name: 'cpu_min', value: '007' },
    { name: 'net_max', value: '0x10' },
    { name: 'net_min', value: '1e3' },
    { name: 'disk_max', value: '12L' },
    { name: 'net_share', value: '1_000' },
    { name: 'enabled', value: '' },
  ];
  const record = convertSliverRecord({ name: 'pl_test', attributes }, 5, 'r');
  assert.ok(record.kind === 'Sliver');
  assert.deepEqual(record.spec.rspec, { ...DEFAULT_RSPEC, cpu_share: -5, cpu_min: 7 });
  assert.equal(record.spec.timestamp, 5, 'the node timestamp is the default');
  assert.equal(record.spec.type, 'sliver.VServer');
  assert.equal(record.spec.instantiation, 'plc-instantiated');
  assert.equal(record.spec.initscript, '');
});

test('delegations split on commas and whitespace; a record type of delegate makes a Delegate', () => {
  assert.deepEqual(parseDelegations(' del_a,del_b\tdel_c ,, del_a'), [{ account: 'del_a' }, { account: 'del_b' }, { account: 'del_c' }]);
  assert.deepEqual(parseDelegations(''), []);
  assert.throws(() => parseDelegations('ok, Bad-Name'), /"Bad-Name" is not an account name/);
  assert.equal(convertSliverRecord({ name: 'd1', type: 'delegate', instantiation: 'delegated' }, 1, 'r').kind, 'Delegate');
  assert.equal(convertSliverRecord({ name: 's1', type: 'sliver.LXC' }, 1, 'r').kind, 'Sliver');
});

test('a malformed answer is refused naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['text', /\(answer\): must be a node struct/],
    [[{ slivers: [] }], /\[0\]\.timestamp: must be an integer/],
    [[{ timestamp: 1, slivers: {} }], /\[0\]\.slivers: must be a list/],
    [[{ timestamp: 1, slivers: [{ name: 'Bad Name' }] }], /\[0\]\.slivers\[0\]\.name: must be an account name/],
    [[{ timestamp: 1, slivers: [{ name: 'ok', instantiation: 'magic' }] }], /slivers\[0\]\.instantiation: must be one of/],
    [[{ timestamp: 1, slivers: [{ name: 'ok', keys: [{ key_type: 'ssh' }] }] }], /slivers\[0\]\.keys\[0\]: must be a struct with a string key/],
    [[{ timestamp: 1, slivers: [{ name: 'ok', attributes: [{ name: 'x', value: null }] }] }], /slivers\[0\]\.attributes\[0\]\.value: must be a string/],
    [[{ timestamp: 1, slivers: [{ name: 'ok', expires: '2030' }] }], /slivers\[0\]\.expires: must be an integer/],
  ];
  for (const [answer, message] of cases) assert.throws(() => parseGetSlivers(answer), (e: Error) => e.name === 'InvalidError' && message.test(e.message));
});

function sliverRecord(name: string, timestamp: number, expires?: number): PlcRecord {
  return convertSliverRecord({ name, timestamp, ...(expires === undefined ? {} : { expires }) }, timestamp, name);
}
const owned = (name: string, timestamp: number, kind: 'Sliver' | 'Delegate' = 'Sliver'): StoredRecord => ({ kind, name, timestamp, plcOwned: true });

test('plan: new names inserted, existing replaced only by newer, older than the last full update ignored', () => {
  const stored = [owned('same', 100), owned('newer', 100), owned('older', 100)];
  const plan = planPlcSync(stored, [{ timestamp: 100, records: [sliverRecord('same', 100), sliverRecord('newer', 150), sliverRecord('older', 100), sliverRecord('fresh', 100), sliverRecord('stale', 90)] }], 95, 0);
  assert.deepEqual(plan.upserts.map((r) => r.name).sort(), ['fresh', 'newer']);
  assert.deepEqual(plan.deletes, []);
  assert.equal(plan.minTimestamp, 100);
});

test('plan: after a full update at T, PLC-owned objects older than T are purged; user-owned never', () => {
  const stored = [owned('kept', 200), owned('dropped', 100), { kind: 'Sliver' as const, name: 'mine', timestamp: 0, plcOwned: false }];
  const plan = planPlcSync(stored, [{ timestamp: 200, records: [sliverRecord('kept', 200), sliverRecord('mine', 200)] }], 100, 0);
  assert.deepEqual(plan.upserts, []);
  assert.deepEqual(plan.deletes, [{ kind: 'Sliver', name: 'dropped' }]);
  assert.deepEqual(plan.conflicts, ['mine']);
});

test('plan: the last full update timestamp never goes back; a replayed old answer changes nothing', () => {
  const plan = planPlcSync([owned('a', 300)], [{ timestamp: 200, records: [sliverRecord('a', 200), sliverRecord('b', 200)] }], 300, 0);
  assert.deepEqual(plan, { upserts: [], deletes: [], conflicts: [], skipped: [], minTimestamp: 300 });
});

test('plan: a record that changes kind replaces the old object; a new already-expired record is not created', () => {
  const asDelegate = convertSliverRecord({ name: 'flip', type: 'delegate', timestamp: 200 }, 200, 'r');
  const plan = planPlcSync([owned('flip', 100)], [{ timestamp: 200, records: [asDelegate, sliverRecord('expired', 200, 999), sliverRecord('live', 200, 1000)] }], 0, 1000);
  assert.deepEqual(plan.deletes, [{ kind: 'Sliver', name: 'flip' }]);
  assert.deepEqual(plan.upserts.map((r) => `${r.kind}/${r.name}`).sort(), ['Delegate/flip', 'Sliver/live']);
});

test('plan: an object being deleted is neither deleted again nor rewritten until it is gone', () => {
  const stored: StoredRecord[] = [{ ...owned('leaving', 100), terminating: true }];
  const plan = planPlcSync(stored, [{ timestamp: 200, records: [sliverRecord('leaving', 200)] }], 100, 0);
  assert.deepEqual(plan, { upserts: [], deletes: [], conflicts: [], skipped: [], minTimestamp: 200 });
});

test('a record with a value out of range is skipped with the reason; the others apply and its stored object is kept', () => {
  const attributes = (pairs: Record<string, string>) => Object.entries(pairs).map(([name, value]) => ({ name, value }));
  const answer = [{
    timestamp: 200,
    slivers: [
      { name: 'pl_good', attributes: attributes({ cpu_share: '64' }) },
      { name: 'pl_negative', attributes: attributes({ cpu_share: ' - 5', net_min: '-1' }) },
      { name: 'pl_flag', attributes: attributes({ enabled: '7' }) },
      { name: 'pl_huge', attributes: attributes({ cpu_min: String(2 ** 53 - 1) }), expires: 2 ** 53 - 1 },
    ],
  }];
  const [update] = parseGetSlivers(answer);
  assert.deepEqual(update?.records.map((r) => r.name), ['pl_good']);
  assert.deepEqual(update?.skipped, [
    { name: 'pl_negative', reason: 'cpu_share -5 is out of range: must be from 0 to 8192; net_min -1 is out of range: must be from 0 to 1000000000000' },
    { name: 'pl_flag', reason: 'enabled 7 is out of range: must be from 0 to 1' },
    { name: 'pl_huge', reason: 'cpu_min 9007199254740991 is out of range: must be from 0 to 8192000; expires 9007199254740991 is out of range: must be from 0 to 253402300799' },
  ]);
  const stored: StoredRecord[] = [
    { kind: 'Sliver', name: 'pl_negative', timestamp: 100, plcOwned: true },
    { kind: 'Sliver', name: 'pl_dropped', timestamp: 100, plcOwned: true },
  ];
  const plan = planPlcSync(stored, parseGetSlivers(answer), 0, 150);
  assert.deepEqual(plan.upserts.map((r) => r.name), ['pl_good']);
  assert.deepEqual(plan.deletes, [{ kind: 'Sliver', name: 'pl_dropped' }], 'the skipped record\'s stored sliver is kept; an unlisted one is purged');
  assert.deepEqual(plan.skipped.map((s) => s.name), ['pl_negative', 'pl_flag', 'pl_huge']);
});
