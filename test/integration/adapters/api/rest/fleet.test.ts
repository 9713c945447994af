// The fleet API end to end: a three-member etcd cluster on loopback ports, ten sim nodes (the real
// controllers, each on its own store, linked by NodeSync), and two `slvd --role fleet-api`
// processes, driven by slvctl as an operator would (docs/fleet.md "The fleet API").
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../../../../adapters/api/client/client.js';
import { isFleetOwned } from '../../../../../resources/fleet.js';
import type { Sliver } from '../../../../../schemas/types.js';
import { removeTempDirs } from '../../../../support/controllers-harness.js';
import { EtcdCluster, etcdMissing } from '../../../../support/etcd.js';
import { eventually, sliverYaml, startFleetApi, startFleetNode, stopFleetNode, type InProcessNode } from '../../../../support/fleet.js';
import { slvctl, type Run } from '../../../../support/slvctl-harness.js';

const NODES = 10;
const ROOT = '/fleet/';
const cluster = new EtcdCluster(3);
const nodes: InProcessNode[] = [];
let dir = '';

const SLIVER = sliverYaml('alpha');

function ok(run: Run, what: string): string {
  assert.equal(run.code, 0, `${what} failed (${run.code}): ${run.stderr}${run.stdout}`);
  return run.stdout;
}

/** The rows of a table as cells, header first. */
function rowsOf(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

function nodeStatuses(text: string): Map<string, string> {
  const [header, ...rows] = rowsOf(text);
  assert.deepEqual(header!.slice(0, 2), ['NAME', 'STATUS']);
  return new Map(rows.map((row) => [row[0]!, row[1]!]));
}

describe('the fleet API over three etcd members and ten sim nodes', { skip: etcdMissing, timeout: 300_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slv-fleet-api-'));
    await cluster.start();
    for (let i = 1; i <= NODES; i++) nodes.push(await startFleetNode(`node-${i}`, cluster.endpoints, ROOT));
  });

  // Registered before anything starts: whatever started is stopped.
  after(async () => {
    for (const node of nodes) await stopFleetNode(node);
    await cluster.stop();
    removeTempDirs();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a sliver applied through the fleet API for node 7 becomes Ready there; get slivers -A shows its status with its node', async (t: TestContext) => {
    const { socket } = await startFleetApi(t, join(dir, 'api-1'), cluster.endpoints, ROOT);
    const manifest = join(dir, 'alpha.yaml');
    writeFileSync(manifest, SLIVER);

    const noNode = await slvctl(['apply', '-f', manifest], { socket });
    assert.notEqual(noNode.code, 0);
    assert.match(noNode.stderr, /namespaced by node in the fleet: name the node/);

    assert.match(ok(await slvctl(['apply', '-f', manifest, '-n', 'node-7'], { socket }), 'apply -n node-7'), /sliver\/alpha created/);
    const listing = await eventually('alpha is Ready on node-7 in get slivers -A', async () => {
      const out = ok(await slvctl(['get', 'slivers', '-A'], { socket }), 'get slivers -A');
      return rowsOf(out).some((row) => row[0] === 'node-7' && row[1] === 'alpha' && row[2] === 'True' && row[3] === 'Running') && out;
    });
    assert.deepEqual(rowsOf(listing)[0]!.slice(0, 4), ['NODE', 'NAME', 'READY', 'STATUS']);

    // Node 7 runs it from its own store, owned by the fleet; no other node has it.
    const local = await nodes[6]!.daemon.store.get('Sliver', 'alpha');
    assert.ok(isFleetOwned(local));
    assert.ok(local.status?.xid !== undefined);
    for (const other of nodes.filter((_, i) => i !== 6)) assert.equal(await other.daemon.store.tryGet('Sliver', 'alpha'), undefined, `${other.name} has no alpha`);

    // The object as the fleet API serves it: in node-7's namespace, with the status the node published.
    const object = JSON.parse(ok(await slvctl(['get', 'sl', 'alpha', '-n', 'node-7', '-o', 'json'], { socket }), 'get -n node-7 -o json')) as Sliver;
    assert.equal(object.metadata.namespace, 'node-7');
    assert.equal(object.status?.xid, local.status?.xid);
    assert.match(ok(await slvctl(['describe', 'sl', 'alpha', '-n', 'node-7'], { socket }), 'describe -n node-7'), /alpha/);
    assert.equal(ok(await slvctl(['get', 'sl', '-n', 'node-6', '-o', 'name'], { socket }), 'get -n node-6'), '', 'node-6 has no slivers');

    // A second fleet API at the same time sees the same fleet: nothing is kept in either.
    const second = await startFleetApi(t, join(dir, 'api-2'), cluster.endpoints, ROOT);
    assert.ok(rowsOf(ok(await slvctl(['get', 'sl', '-A'], { socket: second.socket }), 'get -A on the second API')).some((row) => row[0] === 'node-7' && row[1] === 'alpha'));
    // ... and over TCP, as kubectl reaches it.
    assert.match(ok(await slvctl(['--server', `http://127.0.0.1:${second.port}`, '-n', 'node-7', 'get', 'sl', 'alpha'], { socket: '/nonexistent' }), 'get over http'), /alpha/);

    // A name is looked up in one node; across all of them is a usage error, as in kubectl.
    const byNameEverywhere = await slvctl(['get', 'sl', 'alpha', '-A'], { socket });
    assert.equal(byNameEverywhere.code, 2, byNameEverywhere.stderr);
    assert.match(byNameEverywhere.stderr, /use -n NODE/);
    const mismatched = await slvctl(['apply', '-f', '-', '-n', 'node-8'], { socket, input: sliverYaml('alpha', 'node-7') });
    assert.notEqual(mismatched.code, 0);
    assert.match(mismatched.stderr, /namespace "node-7", but the path is for namespace "node-8"/);

    // Deleted through the fleet API: gone from node 7's store.
    ok(await slvctl(['delete', 'sl', 'alpha', '-n', 'node-7'], { socket }), 'delete -n node-7');
    await eventually('node-7 has deleted alpha', async () => (await nodes[6]!.daemon.store.tryGet('Sliver', 'alpha')) === undefined);
  });

  test('get nodes shows every node Ready from its heartbeat; a stopped node goes NotReady', async (t: TestContext) => {
    const { socket } = await startFleetApi(t, join(dir, 'api-3'), cluster.endpoints, ROOT);
    await eventually('ten nodes are Ready', async () => {
      const statuses = nodeStatuses(ok(await slvctl(['get', 'nodes'], { socket }), 'get nodes'));
      return statuses.size === NODES && [...statuses.values()].every((status) => status === 'Ready');
    });
    const [header, ...rows] = rowsOf(ok(await slvctl(['get', 'nodes'], { socket }), 'get nodes'));
    assert.deepEqual(header, ['NAME', 'STATUS', 'LAST SEEN', 'SLIVERS', 'VERSION']);
    for (const row of rows) assert.match(row[2]!, /^\d+s$/, `${row[0]} was seen seconds ago`);

    const client = new ApiClient(socket);
    t.after(() => client.close());
    const [node3] = await client.nodes('node-3');
    assert.equal(node3?.status.conditions[0]?.status, 'True');

    await nodes[2]!.sync.close(); // stopping revokes the lease: the heartbeat goes at once
    const statuses = await eventually('node-3 is NotReady', async () => {
      const found = nodeStatuses(ok(await slvctl(['get', 'nodes'], { socket }), 'get nodes'));
      return found.get('node-3') === 'NotReady' && found;
    });
    assert.deepEqual(
      [...statuses].filter(([, status]) => status !== 'Ready').map(([name]) => name),
      ['node-3'],
    );
    const [gone] = await client.nodes('node-3');
    assert.equal(gone?.status.conditions[0]?.reason, 'NoHeartbeat');
    assert.ok(gone?.status.lastSeen, 'the fleet API remembers when it last saw node-3');
    const missing = await slvctl(['get', 'nodes', 'node-99'], { socket });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /node-99/);
  });
});
