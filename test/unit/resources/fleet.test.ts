import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLEET_MANAGER, fleetNode, isFleetOwned, isNodeName, parseHeartbeat, planFleetMirror, statusToPublish } from '../../../resources/fleet.js';
import { API_VERSION, MANAGED_BY_LABEL, type AnyObject, type Sliver } from '../../../schemas/types.js';

function sliver(name: string, initscript = '', labels?: Record<string, string>): Sliver {
  return {
    apiVersion: API_VERSION,
    kind: 'Sliver',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { type: 'sliver.VServer', instantiation: 'plc-instantiated', keys: [], initscript, rspec: {}, delegations: [], timestamp: 0, attributes: {} },
  };
}
const owned = (object: Sliver, extra: Record<string, string> = {}): Sliver => ({
  ...object,
  metadata: { ...object.metadata, resourceVersion: '7', labels: { ...extra, [MANAGED_BY_LABEL]: FLEET_MANAGER } },
});

test("a fleet object the node lacks is created, labelled as the fleet's, with only name, labels and spec", () => {
  const action = planFleetMirror({ ...sliver('a', 'x', { team: 'blue' }), metadata: { name: 'a', uid: 'fleet-uid', resourceVersion: '99', labels: { team: 'blue' } } }, undefined);
  assert.equal(action?.type, 'create');
  const object = (action as { object: AnyObject }).object;
  assert.deepEqual(object.metadata, { name: 'a', labels: { team: 'blue', [MANAGED_BY_LABEL]: FLEET_MANAGER } });
  assert.ok(isFleetOwned(object));
  assert.equal((object as Sliver).spec.initscript, 'x');
});

test('a fleet-owned copy is updated only when spec or labels differ, keeping its own metadata and status', () => {
  const local = { ...owned(sliver('a', 'old')), status: { running: true } };
  assert.equal(planFleetMirror(sliver('a', 'old'), local), undefined);
  const action = planFleetMirror(sliver('a', 'new'), local);
  assert.equal(action?.type, 'update');
  const object = (action as { object: Sliver }).object;
  assert.equal(object.spec.initscript, 'new');
  assert.equal(object.metadata.resourceVersion, '7', 'the update is guarded by the copy it was planned from');
  assert.deepEqual(object.status, { running: true });
});

test('a name another owner holds on the node is a conflict, never taken over; only fleet-owned copies are deleted', () => {
  const plcs = sliver('a', '', { [MANAGED_BY_LABEL]: 'plc' });
  assert.deepEqual(planFleetMirror(sliver('a'), plcs), { type: 'conflict', object: plcs, owner: 'plc' });
  assert.equal((planFleetMirror(sliver('a'), sliver('a')) as { owner: string }).owner, 'a local user');
  assert.equal(planFleetMirror(undefined, plcs), undefined);
  assert.equal(planFleetMirror(undefined, sliver('a')), undefined);
  assert.deepEqual(planFleetMirror(undefined, owned(sliver('a'))), { type: 'delete', kind: 'Sliver', name: 'a', resourceVersion: '7' });
});

test('status goes back only when the node has one the fleet does not', () => {
  const fleet = { ...sliver('a'), status: { running: true } };
  assert.equal(statusToPublish(fleet, sliver('a')), undefined);
  assert.equal(statusToPublish(fleet, { ...sliver('a'), status: { running: true } }), undefined);
  assert.deepEqual(statusToPublish(fleet, { ...sliver('a'), status: { running: false } }), { running: false });
});

test('a node is Ready while its heartbeat lives; NotReady after, still saying what it said last', () => {
  const heartbeat = { node: 'n1', version: '1.2.3', time: '2026-01-01T00:00:00Z', slivers: { total: 3, ready: 2 }, fleetConnected: true };
  const ready = fleetNode({ name: 'n1', heartbeat, lastHeartbeat: heartbeat, lastSeen: '2026-01-01T00:00:05Z' });
  assert.deepEqual(
    ready.status.conditions.map((c) => [c.status, c.reason]),
    [['True', 'HeartbeatLeaseAlive']],
  );
  assert.deepEqual([ready.status.version, ready.status.slivers, ready.status.lastSeen], ['1.2.3', { total: 3, ready: 2 }, '2026-01-01T00:00:05Z']);
  const gone = fleetNode({ name: 'n1', lastHeartbeat: heartbeat, lastSeen: '2026-01-01T00:00:05Z' });
  assert.deepEqual(
    gone.status.conditions.map((c) => [c.status, c.reason]),
    [['False', 'NoHeartbeat']],
  );
  assert.equal(gone.status.version, '1.2.3');
  const neverSeen = fleetNode({ name: 'n2' });
  assert.equal(neverSeen.status.conditions[0]!.status, 'False');
  assert.equal(neverSeen.status.lastSeen, undefined);
  assert.equal(neverSeen.status.slivers, undefined);
});

test('parseHeartbeat reads a heartbeat and refuses anything else; node names are DNS-like', () => {
  const text = JSON.stringify({ node: 'n1', version: '1', time: 't', slivers: { total: 1, ready: 1 }, fleetConnected: false });
  assert.equal(parseHeartbeat(text)?.node, 'n1');
  for (const bad of ['', '{', '[]', '{"node":"n1","version":"1"}', '{"node":1,"version":"1","slivers":{"total":1,"ready":1}}']) assert.equal(parseHeartbeat(bad), undefined, bad);
  for (const good of ['node-7', 'planetlab1.cs.example.org', 'a']) assert.ok(isNodeName(good), good);
  for (const bad of ['', 'Node7', '-a', 'a-', 'a/b', '../x', 'a_b']) assert.ok(!isNodeName(bad), bad);
});
