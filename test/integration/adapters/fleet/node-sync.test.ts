// A fleet on real etcd: a three-member cluster on loopback ports and ten nodes, each the real
// controllers on a sim node with its own SQLite store, linked to etcd by NodeSync through TCP gates
// the test can close (one per member, so a node can be cut off from the whole cluster). The fleet
// side writes through namespace stores on etcd, as the fleet API does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Etcd3 } from 'etcd3';
import { NodeSync } from '../../../../adapters/fleet/node-sync.js';
import { connect, heartbeatKey, namespaceKey, namespacePartPrefix, openNamespace, type FleetConnection } from '../../../../adapters/fleet/layout.js';
import type { EtcdStore } from '../../../../adapters/store/etcd.js';
import { MemoryStore } from '../../../../adapters/store/memory.js';
import { systemClock } from '../../../../controller/runtime/clock.js';
import { isFleetOwned, type Heartbeat } from '../../../../resources/fleet.js';
import { API_VERSION, type Sliver } from '../../../../schemas/types.js';
import { removeTempDirs, sliverSpec, startDaemon, type Daemon } from '../../../support/controllers-harness.js';
import { EtcdCluster, etcdMissing } from '../../../support/etcd.js';
import { TcpGate } from '../../../support/tcp-gate.js';

const NODES = 10;
const ROOT = '/fleet/';

interface FleetNode {
  name: string;
  daemon: Daemon;
  gates: TcpGate[];
  sync: NodeSync;
}

const cluster = new EtcdCluster(3);
const nodes: FleetNode[] = [];
const namespaces = new Map<string, EtcdStore>();
let admin: Etcd3 | undefined;

function fleetFor(hosts: string[]): FleetConnection {
  return { hosts, root: ROOT };
}

/** The fleet API's view of a node's namespace. */
async function namespace(node: string): Promise<EtcdStore> {
  let store = namespaces.get(node);
  if (!store) {
    store = await openNamespace(admin!, fleetFor(cluster.endpoints), node);
    namespaces.set(node, store);
  }
  return store;
}

function sliver(name: string, initscript = ''): Sliver {
  return { apiVersion: API_VERSION, kind: 'Sliver', metadata: { name }, spec: sliverSpec({ initscript }) };
}

const isReady = (object: Sliver | undefined) => object?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every sliver the fleet holds for a node is in its store and Ready in the fleet; nothing else of the fleet's is left there. */
async function converged(node: FleetNode): Promise<boolean> {
  const fleet = (await (await namespace(node.name)).list('Sliver')).items;
  const local = (await node.daemon.store.list('Sliver')).items.filter(isFleetOwned);
  const localNames = local.map((s) => s.metadata.name).sort();
  return JSON.stringify(localNames) === JSON.stringify(fleet.map((s) => s.metadata.name).sort()) && fleet.every(isReady);
}

describe('fleet: ten sim nodes on a three-member etcd', { skip: etcdMissing, timeout: 300_000 }, () => {
  before(async () => {
    await cluster.start();
    admin = connect(fleetFor(cluster.endpoints));
    for (let i = 1; i <= NODES; i++) {
      const name = `node-${i}`;
      const gates = cluster.endpoints.map((url) => new TcpGate({ host: '127.0.0.1', port: Number(new URL(url).port) }));
      for (const gate of gates) await gate.start();
      const daemon = await startDaemon({ clock: systemClock });
      const sync = new NodeSync({
        fleet: fleetFor(gates.map((gate) => `http://127.0.0.1:${gate.port}`)),
        node: name,
        local: daemon.store,
        log: pino({ level: 'silent' }),
        heartbeatSeconds: 1,
        retryMs: 200,
      });
      nodes.push({ name, daemon, gates, sync });
      sync.start();
    }
  });

  // Registered before anything starts: whatever started is stopped, in reverse order.
  after(async () => {
    for (const node of nodes) {
      await node.sync.close();
      await node.daemon.stop();
      for (const gate of node.gates) await gate.close();
    }
    for (const store of namespaces.values()) await store.close();
    admin?.close();
    await cluster.stop();
    removeTempDirs();
  });

  test('a sliver applied for node 7 becomes Ready there and its status is visible in the fleet; every node has a heartbeat', async () => {
    const fleet7 = await namespace('node-7');
    const created = await fleet7.create(sliver('alpha'));
    assert.equal(created.metadata.namespace, 'node-7');
    const ready = await eventually('alpha is Ready in the fleet', async () => {
      const object = await fleet7.tryGet('Sliver', 'alpha');
      return isReady(object) && object;
    });
    assert.equal(ready.metadata.namespace, 'node-7');
    const local = await nodes[6]!.daemon.store.get('Sliver', 'alpha');
    assert.ok(isFleetOwned(local));
    assert.ok(local.metadata.managedFields?.some((entry) => entry.manager === 'fleet'));
    assert.equal(local.metadata.namespace, undefined, "the node's own store has no namespaces");
    assert.equal(await nodes[5]!.daemon.store.tryGet('Sliver', 'alpha'), undefined, "node 6 does not get node 7's sliver");
    await eventually('every node has a heartbeat', async () => {
      const beats = await Promise.all(nodes.map((node) => admin!.get(heartbeatKey(ROOT, node.name)).json() as Promise<Heartbeat | null>));
      return beats.every((beat) => beat?.fleetConnected) && beats;
    });
    const beat = (await admin!.get(heartbeatKey(ROOT, 'node-7')).json()) as Heartbeat;
    await eventually('node 7 reports its ready sliver', async () => ((await admin!.get(heartbeatKey(ROOT, 'node-7')).json()) as Heartbeat).slivers.ready === 1);
    assert.equal(beat.node, 'node-7');
  });

  test('statuses that change together reach etcd batched: fewer etcd txns than objects', async () => {
    const local = new MemoryStore();
    const sync = new NodeSync({ fleet: fleetFor(cluster.endpoints), node: 'node-batch', local, log: pino({ level: 'silent' }), retryMs: 100 });
    const revisions = new Set<string>();
    const watcher = await admin!
      .watch()
      .prefix(namespacePartPrefix(ROOT, 'node-batch', 'status'))
      .create();
    watcher.on('put', (kv) => revisions.add(kv.mod_revision));
    try {
      const fleet = await namespace('node-batch');
      await fleet.transact(Array.from({ length: 40 }, (_, i) => ({ type: 'create', object: sliver(`b${i}`) }) as const));
      sync.start();
      await eventually('the node holds all 40 slivers', async () => (await local.list('Sliver')).items.length === 40);
      await Promise.all((await local.list('Sliver')).items.map((s) => local.updateStatus({ ...s, status: { running: true } })));
      await eventually('etcd has all 40 statuses', async () => (await fleet.list('Sliver')).items.every((s) => s.status?.running === true));
      assert.ok(revisions.size < 10, `40 statuses took ${revisions.size} etcd txns`);
    } finally {
      await watcher.cancel();
      await sync.close();
      await local.close();
    }
  });

  test('the etcd leader killed during a stream of writes: every acknowledged write survives and all nodes converge', async () => {
    const acknowledged: Array<{ node: string; name: string }> = [];
    const writes: Array<Promise<void>> = [];
    let killed = -1;
    for (let i = 0; i < 60; i++) {
      const node = `node-${(i % NODES) + 1}`;
      const name = `stream${i}`;
      writes.push(
        (async () => {
          await (await namespace(node)).create(sliver(name));
          acknowledged.push({ node, name });
        })().catch(() => undefined),
      );
      if (i === 20) {
        killed = await cluster.leader();
        await cluster.kill(killed);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(writes);
    assert.ok(acknowledged.length >= 40, `only ${acknowledged.length} of 60 writes were acknowledged`);
    const survivors = connect(fleetFor(cluster.endpoints.filter((_, i) => i !== killed)));
    try {
      for (const { node, name } of acknowledged) {
        assert.ok(await survivors.get(namespaceKey(ROOT, node, 'spec', 'Sliver', name)).string(), `acknowledged ${node}/${name} is lost`);
      }
    } finally {
      survivors.close();
    }
    for (const node of nodes) await eventually(`${node.name} converges`, () => converged(node), 60_000);
    await cluster.restart(killed);
  });

  test('a node cut off for 30 s while its specs change and history is compacted keeps serving, then relists and converges', async () => {
    const node3 = nodes[2]!;
    const fleet3 = await namespace('node-3');
    await fleet3.create(sliver('kept'));
    await fleet3.create(sliver('dropped'));
    await eventually('node 3 has both', () => converged(node3));
    const keptUid = (await node3.daemon.store.get('Sliver', 'kept')).metadata.uid;

    for (const gate of node3.gates) gate.cut();
    const cutAt = Date.now();
    await fleet3.delete('Sliver', 'dropped');
    await fleet3.create(sliver('added'));
    const kept = await fleet3.get('Sliver', 'kept');
    await fleet3.update({ ...kept, spec: { ...kept.spec, initscript: 'changed while away' } });
    // Compact everything so far: node 3's watch cannot resume, it must relist.
    const { header } = await admin!.get('probe').exec();
    await admin!.kv.compact({ revision: header.revision, physical: true });

    // Meanwhile the node runs from its own store: a local sliver still becomes Ready there.
    await node3.daemon.store.create(sliver('localonly'));
    await eventually('a local sliver is Ready on the cut-off node', async () => isReady(await node3.daemon.store.tryGet('Sliver', 'localonly')));
    await eventually('node 3 notices it is cut off', async () => !node3.sync.fleetConnected);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - cutAt))));
    assert.equal((await node3.daemon.store.get('Sliver', 'kept')).spec.initscript, '', 'nothing reached the node while cut off');

    for (const gate of node3.gates) gate.reopen();
    await eventually('node 3 converges after the cut', () => converged(node3), 60_000);
    const local = await node3.daemon.store.get('Sliver', 'kept');
    assert.equal(local.spec.initscript, 'changed while away');
    assert.equal(local.metadata.uid, keptUid, 'the same object, not a second create');
    assert.equal(await node3.daemon.store.tryGet('Sliver', 'dropped'), undefined);
    assert.ok(!isFleetOwned(await node3.daemon.store.get('Sliver', 'localonly')), "the local sliver stays the node's");
    await eventually('node 3 is connected again', async () => node3.sync.fleetConnected);
  });
});
