// The change predicates: ADDED and DELETED always count as changes, a MODIFIED is judged by its old
// and new object, a resync (old is new) is caught only by isResync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyOf, changedBy, fieldChanged, generationChanged, isResync, labelsChanged, specFieldChanged } from '../../../../controller/runtime/predicates.js';
import type { ChangeEvent } from '../../../../controller/runtime/types.js';
import { sliver } from '../../../../adapters/store/conformance.js';
import type { Sliver } from '../../../../schemas/types.js';

const base: Sliver = { ...sliver('a', { rspec: { cpu_share: 1 } }), metadata: { name: 'a', generation: 1, labels: { team: 'x' } } };
const modified = (object: Sliver, oldObject: Sliver = base): ChangeEvent => ({ type: 'MODIFIED', object, oldObject, resync: false, revision: 2 });

test('a MODIFIED counts only when the selected part changed', () => {
  const statusOnly = modified({ ...base, status: { running: true } });
  const specChange = modified({ ...base, metadata: { ...base.metadata, generation: 2 }, spec: { ...base.spec, rspec: { cpu_share: 2 } } });
  const relabelled = modified({ ...base, metadata: { ...base.metadata, labels: { team: 'y' } } });
  assert.equal(generationChanged(statusOnly), false);
  assert.equal(generationChanged(specChange), true);
  assert.equal(specFieldChanged('rspec')(statusOnly), false);
  assert.equal(specFieldChanged('rspec.cpu_share')(specChange), true);
  assert.equal(specFieldChanged('keys')(specChange), false);
  assert.equal(fieldChanged('status.running')(statusOnly), true);
  assert.equal(fieldChanged('status.running.deeper')(statusOnly), false, 'a path through a non-object is undefined on both sides');
  assert.equal(labelsChanged(relabelled), true);
  assert.equal(labelsChanged(modified({ ...base, metadata: { ...base.metadata, labels: {} } }, { ...base, metadata: { name: 'a' } })), false, 'no labels and empty labels are the same');
  assert.equal(changedBy((o) => (o as Sliver).spec.rspec)(modified({ ...base, spec: { ...base.spec, rspec: { cpu_share: 1 } } })), false, 'compared by value, not identity');
});

test('ADDED, DELETED and a MODIFIED without its old object always count; a resync only for isResync', () => {
  const added: ChangeEvent = { type: 'ADDED', object: base, resync: false, revision: 1 };
  const deleted: ChangeEvent = { type: 'DELETED', object: base, oldObject: base, resync: false, revision: 3 };
  const unknownOld: ChangeEvent = { type: 'MODIFIED', object: base, resync: false, revision: 2 };
  const resync: ChangeEvent = { type: 'MODIFIED', object: base, oldObject: base, resync: true, revision: 1 };
  for (const event of [added, deleted, unknownOld]) {
    assert.equal(generationChanged(event), true, event.type);
    assert.equal(isResync(event), false, event.type);
  }
  assert.equal(generationChanged(resync), false);
  assert.equal(isResync(resync), true);
  assert.equal(anyOf(generationChanged, isResync)(resync), true);
  assert.equal(anyOf(generationChanged, labelsChanged)(resync), false);
});
