// setConditions: the rules every controller's conditions follow (docs/controllers.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setConditions, withFields, writeStatus } from '../../../../controller/controllers/status.js';
import { MemoryStore } from '../../../../adapters/store/memory.js';
import { fullRSpec } from '../../../../resources/rspec.js';
import { API_VERSION, type Condition, type Sliver, type SliverStatus } from '../../../../schemas/types.js';

const EARLIER = '2026-01-01T00:00:00Z';
const NOW = '2026-02-02T00:00:00Z';

const stored: Condition[] = [
  { type: 'AccountReady', status: 'True', reason: 'AccountExists', message: 'account a has uid 1001', lastTransitionTime: EARLIER, observedGeneration: 1 },
  { type: 'InitScript', status: 'True', reason: 'Exited', message: 'exited 0', lastTransitionTime: EARLIER },
  { type: 'Ready', status: 'False', reason: 'Waiting', message: 'waiting', lastTransitionTime: EARLIER, observedGeneration: 1 },
];

test('lastTransitionTime moves only when a status flips; other types are kept, removed ones dropped; sorted by type', () => {
  const before = JSON.stringify(stored);
  const result = setConditions(
    stored,
    [
      { type: 'Ready', status: 'True', reason: 'Running', message: 'running' },
      { type: 'AccountReady', status: 'True', reason: 'AccountExists', message: 'account a has uid 1001' },
      { type: 'ResourcesApplied', status: 'True', reason: 'Applied', message: 'enforced' },
    ],
    NOW,
    2,
    ['InitScript'],
  );
  // The exact text, key order included: what the store writes and clients print.
  assert.equal(
    JSON.stringify(result),
    JSON.stringify([
      { type: 'AccountReady', status: 'True', reason: 'AccountExists', message: 'account a has uid 1001', lastTransitionTime: EARLIER, observedGeneration: 2 },
      { type: 'Ready', status: 'True', reason: 'Running', message: 'running', lastTransitionTime: NOW, observedGeneration: 2 },
      { type: 'ResourcesApplied', status: 'True', reason: 'Applied', message: 'enforced', lastTransitionTime: NOW, observedGeneration: 2 },
    ]),
  );
  assert.equal(JSON.stringify(stored), before, 'the stored conditions are untouched');
});

test('without a generation the conditions carry none; a type neither set nor removed is kept as it was', () => {
  const result = setConditions(stored, [{ type: 'Ready', status: 'False', reason: 'Waiting', message: 'still waiting' }], NOW, undefined);
  assert.deepEqual(
    result.map((c) => c.type),
    ['AccountReady', 'InitScript', 'Ready'],
  );
  assert.equal(result[0], stored[0], 'kept as the same object');
  assert.deepEqual(result[2], { type: 'Ready', status: 'False', reason: 'Waiting', message: 'still waiting', lastTransitionTime: EARLIER });
  assert.deepEqual(setConditions(undefined, [{ type: 'Ready', status: 'Unknown', reason: 'New', message: 'new' }], NOW, 1), [
    { type: 'Ready', status: 'Unknown', reason: 'New', message: 'new', lastTransitionTime: NOW, observedGeneration: 1 },
  ]);
});

test('setConditions returns the very array it was given when it would rebuild it as it is, a new one for any difference', () => {
  const asStored = stored.map(({ type, status, reason, message }) => ({ type, status, reason, message }));
  const current = setConditions(stored, asStored, NOW, 1);
  assert.notEqual(current, stored, 'InitScript has no generation: setting one to 1 changes it');
  assert.equal(setConditions(current, asStored, NOW, 1), current, 'nothing to change: the same array');
  assert.equal(setConditions(current, asStored.slice(0, 1), NOW, 1, ['NotThere']), current, 'a subset of the types, removing an absent one');
  const unsorted = [current[2]!, current[0]!, current[1]!];
  const twice = [current[0]!, ...current];
  // Each: what differs, the conditions given, what setConditions made of them.
  const changes: Array<[string, Condition[], Condition[]]> = [
    ['a message', current, setConditions(current, [{ ...asStored[0]!, message: 'account a has uid 1002' }], NOW, 1)],
    ['a reason', current, setConditions(current, [{ ...asStored[2]!, reason: 'Other' }], NOW, 1)],
    ['a status', current, setConditions(current, [{ ...asStored[2]!, status: 'True' }], NOW, 1)],
    ['the generation', current, setConditions(current, asStored, NOW, 2)],
    ['no generation', current, setConditions(current, asStored, NOW, undefined)],
    ['a removed type', current, setConditions(current, asStored.slice(0, 1), NOW, 1, ['InitScript'])],
    ['a new type', current, setConditions(current, [{ type: 'Zeta', status: 'True', reason: 'New', message: 'new' }], NOW, 1)],
    ['an input twice', current, setConditions(current, [asStored[0]!, asStored[0]!], NOW, 1)],
    ['an unsorted array', unsorted, setConditions(unsorted, asStored, NOW, 1)],
    ['a type twice', twice, setConditions(twice, asStored, NOW, 1)],
  ];
  for (const [what, given, result] of changes) assert.notDeepEqual(result, given, what);
  assert.deepEqual(setConditions([], [], NOW, 1), []);
});

test('withFields returns the status itself when it holds every field already, otherwise a copy with them set and undefined ones removed', () => {
  const status: SliverStatus = { xid: 1001, running: true, appliedRSpec: fullRSpec({ cpu_share: 2 }), conditions: stored };
  assert.equal(withFields(status, { xid: 1001, appliedRSpec: { ...fullRSpec({}), cpu_share: 2 }, conditions: stored, lastStartTime: undefined }), status);
  const before = JSON.stringify(status);
  const after = withFields(status, { running: false, initScript: { startedAt: NOW, lastOutput: '' }, appliedRSpec: undefined });
  // The exact text, key order included, as a spread of the status and the fields would give it.
  assert.equal(JSON.stringify(after), JSON.stringify({ xid: 1001, running: false, conditions: stored, initScript: { startedAt: NOW, lastOutput: '' } }));
  assert.equal(JSON.stringify(status), before, 'the status is untouched');
  assert.notEqual(withFields(status, { xid: undefined }), status);
});

test('writeStatus writes nothing when the change changes nothing, re-applies the change to a fresh read after a conflict, and gives undefined for a gone object', async () => {
  const store = new MemoryStore();
  const manifest: Sliver = {
    apiVersion: API_VERSION,
    kind: 'Sliver',
    metadata: { name: 'a' },
    spec: { type: 'sliver.VServer', instantiation: 'plc-instantiated', keys: [], initscript: '', rspec: {}, delegations: [], timestamp: 1, attributes: {} },
  };
  const created = await store.create(manifest);
  const cached = (await store.updateStatus({ ...created, status: { xid: 1001 } })) as Sliver;

  const revision = store.revision();
  assert.equal(await writeStatus<'Sliver'>(store, cached, (status) => withFields(status, { xid: 1001 })), cached, 'nothing to write: the object given');
  assert.equal(store.revision(), revision, 'and no write');

  // Another writer moves the stored object on: the write from the stale copy conflicts, and the
  // change is made again on the fresh one, keeping the other writer's field.
  await store.updateStatus({ ...cached, status: { ...cached.status, running: true } });
  const written = await writeStatus<'Sliver'>(store, cached, (status) => withFields(status, { runState: 'Running' }));
  assert.deepEqual(written?.status, { xid: 1001, running: true, runState: 'Running' });
  assert.deepEqual((await store.get('Sliver', 'a')).status, written?.status);

  await store.delete('Sliver', 'a');
  assert.equal(await writeStatus<'Sliver'>(store, cached, (status) => withFields(status, { xid: 1002 })), undefined);
});
