// Converting GetSlivers answers of both forms (docs/plc.md) and planning the store changes: pure rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_RSPEC } from '../../../resources/rspec.js';
import {
  answerForm,
  convertSliverRecord,
  parseDelegations,
  parseGetSlivers,
  planPlcSync,
  type PlcRecord,
  type PlcUpdate,
  type RecordContext,
  type StoredRecord,
} from '../../../resources/plc-records.js';
import { GETSLIVERS_SAMPLE_URL } from '../../support/reference-vectors.js';

const sample: unknown = JSON.parse(readFileSync(GETSLIVERS_SAMPLE_URL, 'utf8'));

const ORIGINAL: RecordContext = { form: '2006', timestamp: 1, initscripts: new Map() };

/** A record that must convert; fails the test with the reason otherwise. */
function converted(record: unknown, context: RecordContext = ORIGINAL): PlcRecord {
  const result = convertSliverRecord(record, context, 'r');
  if ('skipped' in result) assert.fail(`skipped: ${result.skipped.reason}`);
  return result.record;
}

test('the reference answer converts to three Slivers and one Delegate', () => {
  const answer = parseGetSlivers(sample);
  assert.equal(answer.form, '2006');
  assert.equal(answer.nodeConfig, undefined);
  const [update, ...rest] = answer.updates;
  assert.equal(rest.length, 0);
  assert.deepEqual(update?.skipped, []);
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

test('a single 2006 node struct is accepted as well as a list', () => {
  const node = (sample as unknown[])[0];
  assert.equal(answerForm(node), '2006');
  assert.deepEqual(
    parseGetSlivers(node).updates.map((u) => u.records),
    parseGetSlivers(sample).updates.map((u) => u.records),
  );
});

test('rspec attributes parse as Python 2 int(); unparsable ones take the default', () => {
  // A sign with whitespace after it, as Python 2 took it (' - 5 ' parses too, then is out of range).
  const attributes = [
    { name: 'cpu_share', value: ' + 5 ' },
    { name: 'cpu_min', value: '007' },
    { name: 'net_max', value: '0x10' },
    { name: 'net_min', value: '1e3' },
    { name: 'disk_max', value: '12L' },
    { name: 'net_share', value: '1_000' },
    { name: 'enabled', value: '' },
  ];
  const record = converted({ name: 'pl_test', attributes }, { ...ORIGINAL, timestamp: 5 });
  assert.ok(record.kind === 'Sliver');
  assert.deepEqual(record.spec.rspec, { ...DEFAULT_RSPEC, cpu_share: 5, cpu_min: 7 });
  assert.equal(record.spec.timestamp, 5, 'the node timestamp is the default');
  assert.equal(record.spec.type, 'sliver.VServer');
  assert.equal(record.spec.instantiation, 'plc-instantiated');
  assert.equal(record.spec.initscript, '');
});

test('delegations split on commas and whitespace; a record type of delegate makes a Delegate', () => {
  assert.deepEqual(parseDelegations(' del_a,del_b\tdel_c ,, del_a'), [{ account: 'del_a' }, { account: 'del_b' }, { account: 'del_c' }]);
  assert.deepEqual(parseDelegations(''), []);
  assert.throws(() => parseDelegations('ok, Bad-Name'), /"Bad-Name" is not a sliver or delegate name/);
  assert.deepEqual(parseDelegations('3dlab_ops'), [{ account: '3dlab_ops' }], 'a PLC slice name may start with a digit');
  assert.equal(converted({ name: 'd1', type: 'delegate', instantiation: 'delegated' }).kind, 'Delegate');
  assert.equal(converted({ name: 's1', type: 'sliver.LXC' }).kind, 'Sliver');
});

test('an answer unusable as a whole is refused naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['text', /\(answer\): must be a node struct/],
    [[{ slivers: [] }], /\[0\]\.timestamp: must be an integer/],
    [[{ timestamp: 1, slivers: {} }], /\[0\]\.slivers: must be a list/],
    [{ timestamp: 1, initscripts: [], slivers: 'none' }, /\(answer\)\.slivers: must be a list/],
    [{ timestamp: 1, initscripts: {}, slivers: [] }, /initscripts: must be a list/],
  ];
  for (const [answer, message] of cases)
    assert.throws(
      () => parseGetSlivers(answer),
      (e: Error) => e.name === 'InvalidError' && /^malformed GetSlivers answer: /.test(e.message) && message.test(e.message),
    );
});

test('each bad record is skipped with the field at fault; the others convert', () => {
  const cases: Array<[unknown, string | undefined, RegExp]> = [
    [{ name: 'Bad Name' }, undefined, /\[0\]\.slivers\[0\]\.name: must be a slice or account name/],
    [{ name: 'ok', instantiation: 'magic' }, 'ok', /slivers\[0\]\.instantiation: must be one of/],
    [{ name: 'ok', keys: [{ key_type: 'ssh' }] }, 'ok', /slivers\[0\]\.keys\[0\]: must be a struct with a string key/],
    [{ name: 'ok', attributes: [{ name: 'x', value: null }] }, 'ok', /slivers\[0\]\.attributes\[0\]\.value: must be a string/],
    [{ name: 'ok', expires: '2030' }, 'ok', /slivers\[0\]\.expires: must be an integer/],
    [{ name: 'ok', attributes: [{ name: 'delegations', value: 'Bad-Name' }] }, 'ok', /attributes\.delegations: "Bad-Name"/],
    [{ name: 'ok', keys: [{ key: 'k'.repeat(20_000) }] }, 'ok', /Sliver "ok" is invalid: spec\.keys\.0/],
    ['text', undefined, /slivers\[0\]: must be a struct/],
  ];
  for (const [record, name, reason] of cases) {
    const { updates } = parseGetSlivers([{ timestamp: 1, slivers: [record, { name: 'pl_good' }] }]);
    const [update] = updates;
    assert.deepEqual(
      update?.records.map((r) => r.name),
      ['pl_good'],
    );
    assert.equal(update?.skipped.length, 1);
    assert.equal(update?.skipped[0]?.name, name);
    assert.equal(update?.skipped[0]?.path, '[0].slivers[0]');
    assert.match(update?.skipped[0]?.reason ?? '', reason);
  }
});

test('names: any PLC slice name (login base may start with a digit) and any 2006 account name', () => {
  for (const name of ['3dlab_render', 'princeton_codeen', 'a.b_c.d', 'pl_netflow', 'd1', 'x'.repeat(32), `a1_${'x'.repeat(61)}`]) assert.equal(converted({ name }).name, name);
  for (const name of ['1abc', '_x', '.x_y', 'A_b', 'a-b_c', `a1_${'x'.repeat(62)}`, '']) {
    const result = convertSliverRecord({ name }, ORIGINAL, 'r');
    assert.ok('skipped' in result, `${JSON.stringify(name)} is refused`);
  }
});

function sliverRecord(name: string, timestamp: number, expires?: number): PlcRecord {
  return converted({ name, timestamp, ...(expires === undefined ? {} : { expires }) }, { ...ORIGINAL, timestamp });
}
const update = (timestamp: number, records: PlcRecord[], skipped: PlcUpdate['skipped'] = []): PlcUpdate => ({ timestamp, records, skipped });
const owned = (name: string, timestamp: number, kind: 'Sliver' | 'Delegate' = 'Sliver'): StoredRecord => ({ kind, name, timestamp, plcOwned: true });

test('plan: new names inserted, existing replaced only by newer, older than the last full update ignored', () => {
  const stored = [owned('same', 100), owned('newer', 100), owned('older', 100)];
  const plan = planPlcSync(stored, [update(100, [sliverRecord('same', 100), sliverRecord('newer', 150), sliverRecord('older', 100), sliverRecord('fresh', 100), sliverRecord('stale', 90)])], 95, 0);
  assert.deepEqual(plan.upserts.map((r) => r.name).sort(), ['fresh', 'newer']);
  assert.deepEqual(plan.deletes, []);
  assert.equal(plan.minTimestamp, 100);
});

test('plan: after a full update at T, PLC-owned objects older than T are purged; user-owned never', () => {
  const stored = [owned('kept', 200), owned('dropped', 100), { kind: 'Sliver' as const, name: 'mine', timestamp: 0, plcOwned: false }];
  const plan = planPlcSync(stored, [update(200, [sliverRecord('kept', 200), sliverRecord('mine', 200)])], 100, 0);
  assert.deepEqual(plan.upserts, []);
  assert.deepEqual(plan.deletes, [{ kind: 'Sliver', name: 'dropped' }]);
  assert.deepEqual(plan.conflicts, ['mine']);
});

test('plan: the last full update timestamp never goes back; a replayed old answer changes nothing', () => {
  const plan = planPlcSync([owned('a', 300)], [update(200, [sliverRecord('a', 200), sliverRecord('b', 200)])], 300, 0);
  assert.deepEqual(plan, { upserts: [], deletes: [], conflicts: [], skipped: [], minTimestamp: 300 });
});

test('plan: a record that changes kind replaces the old object; a new already-expired record is not created', () => {
  const asDelegate = converted({ name: 'flip', type: 'delegate', timestamp: 200 });
  const plan = planPlcSync([owned('flip', 100)], [update(200, [asDelegate, sliverRecord('expired', 200, 999), sliverRecord('live', 200, 1000)])], 0, 1000);
  assert.deepEqual(plan.deletes, [{ kind: 'Sliver', name: 'flip' }]);
  assert.deepEqual(plan.upserts.map((r) => `${r.kind}/${r.name}`).sort(), ['Delegate/flip', 'Sliver/live']);
});

test('plan: an object being deleted is neither deleted again nor rewritten until it is gone', () => {
  const stored: StoredRecord[] = [{ ...owned('leaving', 100), terminating: true }];
  const plan = planPlcSync(stored, [update(200, [sliverRecord('leaving', 200)])], 100, 0);
  assert.deepEqual(plan, { upserts: [], deletes: [], conflicts: [], skipped: [], minTimestamp: 200 });
});

test('a record with a value out of range is skipped with the reason; the others apply and its stored object is kept', () => {
  const attributes = (pairs: Record<string, string>) => Object.entries(pairs).map(([name, value]) => ({ name, value }));
  const answer = [
    {
      timestamp: 200,
      slivers: [
        { name: 'pl_good', attributes: attributes({ cpu_share: '64' }) },
        { name: 'pl_negative', attributes: attributes({ cpu_share: ' - 5', net_min: '-1' }) },
        { name: 'pl_flag', attributes: attributes({ enabled: '7' }) },
        { name: 'pl_huge', attributes: attributes({ cpu_min: String(2 ** 53 - 1) }), expires: 2 ** 53 - 1 },
      ],
    },
  ];
  const { updates } = parseGetSlivers(answer);
  assert.deepEqual(
    updates[0]?.records.map((r) => r.name),
    ['pl_good'],
  );
  assert.deepEqual(updates[0]?.skipped, [
    { path: '[0].slivers[1]', name: 'pl_negative', reason: '[0].slivers[1]: cpu_share -5 is out of range: must be from 0 to 8192; net_min -1 is out of range: must be from 0 to 1000000000000' },
    { path: '[0].slivers[2]', name: 'pl_flag', reason: '[0].slivers[2]: enabled 7 is out of range: must be from 0 to 1' },
    {
      path: '[0].slivers[3]',
      name: 'pl_huge',
      reason: '[0].slivers[3]: cpu_min 9007199254740991 is out of range: must be from 0 to 8192000; expires 9007199254740991 is out of range: must be from 0 to 253402300799',
    },
  ]);
  const stored: StoredRecord[] = [
    { kind: 'Sliver', name: 'pl_negative', timestamp: 100, plcOwned: true },
    { kind: 'Sliver', name: 'pl_dropped', timestamp: 100, plcOwned: true },
  ];
  const plan = planPlcSync(stored, updates, 0, 150);
  assert.deepEqual(
    plan.upserts.map((r) => r.name),
    ['pl_good'],
  );
  assert.deepEqual(plan.deletes, [{ kind: 'Sliver', name: 'pl_dropped' }], "the skipped record's stored sliver is kept; an unlisted one is purged");
  assert.deepEqual(
    plan.skipped.map((s) => s.name),
    ['pl_negative', 'pl_flag', 'pl_huge'],
  );
});

test('plan: a stored object whose new record was skipped is kept, never purged for it; a skipped record without a name protects nothing', () => {
  const stored = [owned('broken', 100), owned('gone', 100)];
  const plan = planPlcSync(
    stored,
    [
      update(
        200,
        [sliverRecord('fine', 200)],
        [
          { path: 'slivers[0]', name: 'broken', reason: 'bad' },
          { path: 'slivers[1]', reason: 'no name' },
        ],
      ),
    ],
    100,
    0,
  );
  assert.deepEqual(plan.deletes, [{ kind: 'Sliver', name: 'gone' }]);
  assert.deepEqual(
    plan.upserts.map((r) => r.name),
    ['fine'],
  );
  assert.equal(plan.minTimestamp, 200);
  // Fixed in the next answer: the record applies as any newer one.
  const fixed = planPlcSync(stored.slice(0, 1), [update(300, [sliverRecord('broken', 300)])], 200, 0);
  assert.deepEqual(
    fixed.upserts.map((r) => `${r.name}@${r.spec.timestamp}`),
    ['broken@300'],
  );
});
