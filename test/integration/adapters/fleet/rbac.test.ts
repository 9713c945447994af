// etcd's RBAC keeps nodes apart: on a real etcd with authentication on, node 3's credentials read
// its own namespace and write its statuses and heartbeat (its NodeSync works with them); etcd
// refuses them everything of node 4's and any write of node 3's own specs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3, Range } from 'etcd3';
import { pino } from 'pino';
import { heartbeatKey, namespaceKey, namespacePrefix, openNamespace } from '../../../../adapters/fleet/layout.js';
import { NodeSync } from '../../../../adapters/fleet/node-sync.js';
import { addFleetAdmin, addFleetNode, enableAuth, isPermissionDenied, nodeUser } from '../../../../adapters/fleet/rbac.js';
import { MemoryStore } from '../../../../adapters/store/memory.js';
import { sliver } from '../../../../adapters/store/conformance.js';
import type { EtcdStore } from '../../../../adapters/store/etcd.js';
import { EtcdCluster, etcdMissing } from '../../../support/etcd.js';

const ROOT = '/fleet/';
const cluster = new EtcdCluster(1);
const clients: Etcd3[] = [];

function as(username: string, password: string): Etcd3 {
  const client = new Etcd3({ hosts: cluster.endpoints, auth: { username, password } });
  clients.push(client);
  return client;
}

async function refused(call: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(call, (error: Error) => {
    assert.ok(isPermissionDenied(error), `${what}: expected etcd to refuse with permission denied, got ${error.message}`);
    return true;
  });
}

describe('fleet RBAC', { skip: etcdMissing, timeout: 60_000 }, () => {
  before(async () => {
    await cluster.start();
    const setup = new Etcd3({ hosts: cluster.endpoints });
    try {
      await enableAuth(setup, 'rootpw');
    } finally {
      setup.close();
    }
    const root = as('root', 'rootpw');
    await addFleetAdmin(root, ROOT, 'fleet-api', 'apipw');
    // node 3's role as an earlier key layout granted it (read-write on its whole namespace): adding the node again narrows it.
    await root.role(nodeUser('node-3')).create();
    await root.role(nodeUser('node-3')).grant({ permission: 'Readwrite', range: Range.prefix(namespacePrefix(ROOT, 'node-3')) });
    for (const node of ['node-3', 'node-4']) await addFleetNode(root, ROOT, node, `${node}-pw`);
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster.stop();
  });

  test("node 3's credentials cannot read node 4's specs or write its status, nor write their own specs; its own sync works", async () => {
    const api = as('fleet-api', 'apipw');
    let fleet4: EtcdStore | undefined;
    let fleet3: EtcdStore | undefined;
    const local = new MemoryStore();
    const sync = new NodeSync({
      fleet: { hosts: cluster.endpoints, root: ROOT, auth: { username: nodeUser('node-3'), password: 'node-3-pw' } },
      node: 'node-3',
      local,
      log: pino({ level: 'silent' }),
      heartbeatSeconds: 1,
      retryMs: 100,
    });
    try {
      fleet4 = await openNamespace(api, { hosts: cluster.endpoints, root: ROOT }, 'node-4');
      fleet3 = await openNamespace(api, { hosts: cluster.endpoints, root: ROOT }, 'node-3');
      await fleet4.create(sliver('theirs'));
      const ours = await fleet3.create(sliver('mine'));

      const node3 = as(nodeUser('node-3'), 'node-3-pw');
      await refused(node3.get(namespaceKey(ROOT, 'node-4', 'spec', 'Sliver', 'theirs')).string(), "reading node 4's sliver");
      await refused(node3.getAll().prefix(namespacePrefix(ROOT, 'node-4')).keys(), "listing node 4's namespace");
      await refused(
        node3
          .put(namespaceKey(ROOT, 'node-4', 'status', 'Sliver', 'theirs'))
          .value(JSON.stringify({ running: false }))
          .exec(),
        "writing node 4's status",
      );
      await refused(node3.put(heartbeatKey(ROOT, 'node-4')).value('{}').exec(), "writing node 4's heartbeat");
      await refused(node3.getAll().prefix(ROOT).keys(), 'listing the whole fleet');
      const ownSpecKey = namespaceKey(ROOT, 'node-3', 'spec', 'Sliver', 'mine');
      assert.ok(await node3.get(ownSpecKey).string(), 'node 3 reads its own sliver');
      await refused(
        node3
          .put(ownSpecKey)
          .value(JSON.stringify({ ...ours, spec: { ...ours.spec, initscript: 'mine now' } }))
          .exec(),
        'writing its own spec',
      );
      await refused(node3.delete().key(ownSpecKey).exec(), 'deleting its own spec');
      // Through a namespace store with node 3's credentials: a status write goes through, a spec write is refused.
      const asNode3 = await openNamespace(node3, { hosts: cluster.endpoints, root: ROOT }, 'node-3');
      try {
        await refused(asNode3.update({ ...ours, spec: { ...ours.spec, initscript: 'mine now' } }), 'updating its own spec through the store');
        assert.equal((await asNode3.get('Sliver', 'mine')).spec.initscript, '');
      } finally {
        await asNode3.close();
      }

      sync.start();
      for (let i = 0; i < 100 && !(await local.tryGet('Sliver', 'mine')); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(await local.tryGet('Sliver', 'mine'), "node 3's sync mirrors its own namespace with its own credentials");
      assert.equal(await local.tryGet('Sliver', 'theirs'), undefined);
      const mine = await local.get('Sliver', 'mine');
      await local.updateStatus({ ...mine, status: { running: true } });
      for (let i = 0; i < 100 && !(await fleet3.get('Sliver', 'mine')).status?.running; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await fleet3.get('Sliver', 'mine')).status?.running, true, 'node 3 publishes its own status');
      for (let i = 0; i < 100 && !(await api.get(heartbeatKey(ROOT, 'node-3')).string()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(await api.get(heartbeatKey(ROOT, 'node-3')).string(), 'node 3 writes its own heartbeat');
    } finally {
      await sync.close();
      await local.close();
      await fleet3?.close();
      await fleet4?.close();
    }
  });
});
