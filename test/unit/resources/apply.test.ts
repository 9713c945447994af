// resources/apply.ts: server-side apply with field ownership, plain-write ownership, merge patch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyConfiguration, mergePatch, ownedFields, recordUpdate, withKubernetesManagedFields } from '../../../resources/apply.js';
import { ConflictError } from '../../../resources/errors.js';
import { API_VERSION, type Sliver } from '../../../schemas/types.js';

const T1 = '2026-01-01T00:00:00Z';
const T2 = '2026-01-02T00:00:00Z';

function plcSliver(): Sliver {
  const written: Sliver = {
    apiVersion: API_VERSION,
    kind: 'Sliver',
    metadata: { name: 'alice', resourceVersion: '7', labels: { 'nm.planet-lab.org/managed-by': 'plc' } },
    spec: { type: 'sliver.VServer', instantiation: 'plc-instantiated', keys: ['ssh-rsa A'], initscript: '', rspec: { cpu_share: 32 }, delegations: [], timestamp: 5, attributes: { cpu_share: '32' } },
  };
  return recordUpdate(undefined, written, 'plc', T1);
}

/** A partial configuration, as a user would write it. */
function config(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Sliver {
  return { apiVersion: API_VERSION, kind: 'Sliver', metadata: { name: 'alice', ...metadata }, spec } as unknown as Sliver;
}

test('ownedFields lists leaves as JSON pointers, arrays atomic, "/" in label keys escaped', { timeout: 5_000 }, () => {
  assert.deepEqual(ownedFields(plcSliver()), [
    '/metadata/labels/nm.planet-lab.org~1managed-by',
    '/spec/attributes/cpu_share',
    '/spec/delegations',
    '/spec/initscript',
    '/spec/instantiation',
    '/spec/keys',
    '/spec/rspec/cpu_share',
    '/spec/timestamp',
    '/spec/type',
  ]);
});

test('a plain write records its manager as the owner of what it changed', { timeout: 5_000 }, () => {
  const created = plcSliver();
  assert.deepEqual(created.metadata.managedFields, [{ manager: 'plc', operation: 'Update', fields: ownedFields(created), time: T1 }]);
  const edited = structuredClone(created);
  edited.spec.keys = ['ssh-rsa B'];
  const after = recordUpdate(created, edited, 'editor', T2);
  const plc = after.metadata.managedFields?.find((e) => e.manager === 'plc');
  const editor = after.metadata.managedFields?.find((e) => e.manager === 'editor');
  assert.deepEqual(editor, { manager: 'editor', operation: 'Update', fields: ['/spec/keys'], time: T2 });
  assert.ok(plc && !plc.fields.includes('/spec/keys') && plc.fields.includes('/spec/type') && plc.time === T1);
  // A write that changes nothing leaves managedFields exactly as they were.
  assert.deepEqual(recordUpdate(after, structuredClone(after), 'editor', '2026-09-09T00:00:00Z').metadata.managedFields, after.metadata.managedFields);
});

test('apply of a field another manager set to a different value is a conflict naming both', { timeout: 5_000 }, () => {
  const current = plcSliver();
  assert.throws(
    () => applyConfiguration(current, config({ rspec: { cpu_share: 64 } }), 'slvctl', { force: false, now: T2 }),
    (error: unknown) => error instanceof ConflictError && error.currentResourceVersion === '7' && /apply failed with 1 conflict: \/spec\/rspec\/cpu_share \(owned by "plc"\)/.test(error.message),
  );
});

test('apply of the same value shares ownership; force takes it over', { timeout: 5_000 }, () => {
  const current = plcSliver();
  const shared = applyConfiguration(current, config({ rspec: { cpu_share: 32 }, run: { state: 'Stopped' } }), 'alice', { force: false, now: T2 });
  assert.equal(shared.spec.run?.state, 'Stopped');
  assert.ok(shared.metadata.managedFields?.find((e) => e.manager === 'plc')?.fields.includes('/spec/rspec/cpu_share'));
  assert.deepEqual(shared.metadata.managedFields?.find((e) => e.manager === 'alice')?.fields, ['/spec/rspec/cpu_share', '/spec/run/state']);

  const forced = applyConfiguration(current, config({ rspec: { cpu_share: 64 } }), 'ops', { force: true, now: T2 });
  assert.equal(forced.spec.rspec.cpu_share, 64);
  assert.equal(forced.spec.keys[0], 'ssh-rsa A', 'fields the configuration does not mention are kept');
  assert.ok(!forced.metadata.managedFields?.find((e) => e.manager === 'plc')?.fields.includes('/spec/rspec/cpu_share'));
});

test('a manager that stops applying a field removes it, unless another manager owns it too', { timeout: 5_000 }, () => {
  const first = applyConfiguration(plcSliver(), config({ run: { state: 'Stopped' } }, { annotations: { note: 'x' } }), 'alice', { force: false, now: T2 });
  assert.equal(first.metadata.annotations?.note, 'x');
  const second = applyConfiguration(first, config({ run: { state: 'Stopped' } }), 'alice', { force: false, now: T2 });
  assert.equal(second.metadata.annotations?.note, undefined, 'dropped from the configuration: removed');
  // Dropping a field PLC also set (same value) leaves PLC's value in place.
  const cosigned = applyConfiguration(plcSliver(), config({ keys: ['ssh-rsa A'] }), 'alice', { force: false, now: T2 });
  const dropped = applyConfiguration(cosigned, config({ run: { state: 'Running' } }), 'alice', { force: false, now: T2 });
  assert.deepEqual(dropped.spec.keys, ['ssh-rsa A']);
});

test('re-applying the same configuration returns an identical object (so the store sees a no-op)', { timeout: 5_000 }, () => {
  const once = applyConfiguration(plcSliver(), config({ run: { state: 'Stopped' } }), 'alice', { force: false, now: T1 });
  const twice = applyConfiguration(once, config({ run: { state: 'Stopped' } }), 'alice', { force: false, now: T2 });
  assert.deepEqual(twice, once);
});

test('apply onto nothing creates the object from the configuration, owned by the manager', { timeout: 5_000 }, () => {
  const configuration = structuredClone(plcSliver());
  delete configuration.metadata.managedFields;
  delete configuration.metadata.resourceVersion;
  const created = applyConfiguration(undefined, configuration, 'slvctl', { force: false, now: T1 });
  assert.deepEqual(created.spec, configuration.spec);
  assert.deepEqual(created.metadata.managedFields, [{ manager: 'slvctl', operation: 'Apply', fields: ownedFields(configuration), time: T1 }]);
});

test('mergePatch follows RFC 7386', { timeout: 5_000 }, () => {
  assert.deepEqual(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } }), { a: 'z', c: { d: 'e' } });
  assert.deepEqual(mergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
  assert.deepEqual(mergePatch({ a: 'b' }, ['c']), ['c']);
  assert.deepEqual(mergePatch('x', { a: { b: null, c: 1 } }), { a: { c: 1 } });
});

test('managedFields reach Kubernetes clients as FieldsV1 sets: escaped keys unescaped, atomic lists as leaves', { timeout: 5_000 }, () => {
  const sliver = structuredClone(plcSliver());
  sliver.metadata.managedFields = [
    { manager: 'plc', operation: 'Update', fields: ['/metadata/labels/nm.planet-lab.org~1managed-by', '/spec/keys', '/spec/rspec/cpu_share', '/spec/rspec/net_max'], time: T1 },
  ];
  const shown = withKubernetesManagedFields(sliver);
  assert.deepEqual(shown.metadata.managedFields, [
    {
      manager: 'plc',
      operation: 'Update',
      apiVersion: API_VERSION,
      time: T1,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:nm.planet-lab.org/managed-by': {} } }, 'f:spec': { 'f:keys': {}, 'f:rspec': { 'f:cpu_share': {}, 'f:net_max': {} } } },
    },
  ]);
  assert.deepEqual(sliver.metadata.managedFields[0]!.fields.length, 4, 'the stored object is not changed');
  delete sliver.metadata.managedFields;
  assert.equal(withKubernetesManagedFields(sliver), sliver, 'nothing to convert: the object itself');
});
