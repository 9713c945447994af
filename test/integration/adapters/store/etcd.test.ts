// The etcd backend runs the same contract suite as SQLite, unchanged, against a real single-member
// etcd on a loopback port (each test gets its own key prefix); then what only etcd has: a second
// store on the same keys (another fleet API) and a compaction while the store was cut off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { MAX_OBJECTS_PER_TXN, openEtcdStore, parseEtcdUrl, partKey } from '../../../../adapters/store/etcd.js';
import { runStoreConformance, sliver } from '../../../../adapters/store/conformance.js';
import type { Store } from '../../../../adapters/store/contract.js';
import { EtcdCluster, etcdMissing } from '../../../support/etcd.js';
import { TcpGate } from '../../../support/tcp-gate.js';

const cluster = new EtcdCluster(1);
let prefixes = 0;

describe('etcd store', { skip: etcdMissing }, () => {
  before(() => cluster.start(), { timeout: 30_000 });
  after(() => cluster.stop());

  runStoreConformance(
    'etcd',
    async () => {
      const prefix = `/slv-test-${++prefixes}/`;
      let store: Store = await openEtcdStore({ hosts: cluster.endpoints, prefix });
      return {
        get store() {
          return store;
        },
        async reopen() {
          await store.close();
          store = await openEtcdStore({ hosts: cluster.endpoints, prefix });
          return store;
        },
        cleanup: () => store.close(),
      };
    },
    { durable: true, historyAfterReopen: false },
  );

  test('two stores on the same keys: a write planned on stale data is re-planned, a stale resourceVersion is 409', async () => {
    const prefix = `/slv-test-${++prefixes}/`;
    const one = await openEtcdStore({ hosts: cluster.endpoints, prefix });
    const two = await openEtcdStore({ hosts: cluster.endpoints, prefix });
    try {
      const created = await one.create(sliver('alpha'));
      const updated = await two.update({ ...(await waitFor(two, 'alpha')), spec: { ...created.spec, initscript: 'from two' } });
      assert.equal(updated.metadata.generation, 2);
      await assert.rejects(one.update({ ...created, spec: { ...created.spec, initscript: 'stale' } }), (e: { reason: string }) => e.reason === 'Conflict');
      // Without a resourceVersion the write applies on top of two's change, never under it.
      const { resourceVersion: _rv, ...metadata } = created.metadata;
      const merged = await one.update({ ...created, metadata, spec: { ...created.spec, initscript: 'from one' } } as typeof created);
      assert.equal(merged.metadata.generation, 3);
      assert.equal(Number(merged.metadata.resourceVersion) > Number(updated.metadata.resourceVersion), true);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('an object is a spec key and a status key: a status write puts only the status key, one txn and one event per write', async () => {
    const prefix = `/slv-test-${++prefixes}/`;
    const store = await openEtcdStore({ hosts: cluster.endpoints, prefix });
    const raw = new Etcd3({ hosts: cluster.endpoints });
    try {
      const created = await store.create({ ...sliver('alpha'), status: { xid: 1 } });
      const specKey = partKey(prefix, 'spec', 'Sliver', 'alpha');
      const statusKey = partKey(prefix, 'status', 'Sliver', 'alpha');
      const specBefore = await raw.get(specKey).exec();
      assert.equal(JSON.parse((await raw.get(statusKey).string())!).xid, 1);
      assert.equal(JSON.parse((await raw.get(specKey).string())!).status, undefined, 'the spec key holds no status');
      const events: string[] = [];
      const watch = store.watch({ sinceRevision: store.revision() }, { onEvent: (e) => events.push(`${e.type} ${e.revision}`) });
      const updated = await store.updateStatus({ ...created, status: { xid: 2 } });
      assert.equal(Number((await raw.get(specKey).exec()).kvs[0]!.mod_revision), Number(specBefore.kvs[0]!.mod_revision), 'the spec key is untouched');
      assert.equal(Number((await raw.get(statusKey).exec()).kvs[0]!.mod_revision), Number(updated.metadata.resourceVersion));
      const respecced = await store.update({ ...updated, spec: { ...updated.spec, initscript: 'x' } });
      assert.equal(respecced.status?.xid, 2);
      // A stale resourceVersion is 409 whichever key moved on.
      await assert.rejects(store.updateStatus({ ...updated, status: { xid: 3 } }), (e: { reason: string }) => e.reason === 'Conflict');
      await store.delete('Sliver', 'alpha');
      assert.equal((await raw.getAll().prefix(prefix).keys()).length, 0, 'a delete removes both keys');
      await new Promise((resolve) => setImmediate(resolve));
      watch.stop();
      assert.deepEqual(events, [`MODIFIED ${updated.metadata.resourceVersion}`, `MODIFIED ${respecced.metadata.resourceVersion}`, `DELETED ${store.revision()}`]);
      assert.deepEqual(store.writeStats(), { txns: 4, keyWrites: 2 + 1 + 1 + 2 });
    } finally {
      raw.close();
      await store.close();
    }
  });

  test('a transaction over the objects an etcd txn can hold is a 400 naming the limit, and writes nothing', async () => {
    const store = await openEtcdStore({ hosts: cluster.endpoints, prefix: `/slv-test-${++prefixes}/` });
    try {
      const creates = (count: number) => Array.from({ length: count }, (_, i) => ({ type: 'create', object: sliver(`s${i}`) }) as const);
      await assert.rejects(store.transact(creates(MAX_OBJECTS_PER_TXN + 1)), (e: { code: number; message: string }) => e.code === 400 && e.message.includes(`at most ${MAX_OBJECTS_PER_TXN} objects`));
      assert.deepEqual((await store.list('Sliver')).items, []);
      assert.equal((await store.transact(creates(MAX_OBJECTS_PER_TXN))).length, MAX_OBJECTS_PER_TXN, 'etcd takes a txn at the limit');
      assert.deepEqual(store.writeStats(), { txns: 1, keyWrites: MAX_OBJECTS_PER_TXN });
    } finally {
      await store.close();
    }
  });

  test('etcd compacted past the store while it was cut off: watchers get 410 Gone and the store relists', async () => {
    const prefix = `/slv-test-${++prefixes}/`;
    const gate = new TcpGate({ host: '127.0.0.1', port: Number(new URL(cluster.endpoints[0]!).port) });
    const raw = new Etcd3({ hosts: cluster.endpoints });
    try {
      await gate.start();
      const store = await openEtcdStore({ hosts: [`http://127.0.0.1:${gate.port}`], prefix });
      try {
        await store.create(sliver('alpha'));
        const gone = new Promise<Error>((resolve) => store.watch({}, { onEvent() {}, onError: resolve }));
        gate.cut();
        // Changes behind the store's back, then a compaction past everything it has seen.
        await raw.put(partKey(prefix, 'spec', 'Sliver', 'beta')).value(JSON.stringify(sliver('beta')));
        await raw.put('/elsewhere').value('x');
        await raw.delete().key(partKey(prefix, 'spec', 'Sliver', 'alpha'));
        const { header } = await raw.get('probe').exec();
        await raw.kv.compact({ revision: header.revision, physical: true });
        gate.reopen();
        assert.equal(((await gone) as { reason?: string }).reason, 'Gone');
        assert.deepEqual(
          (await store.list('Sliver')).items.map((s) => s.metadata.name),
          ['beta'],
        );
        assert.equal(store.compactedRevision(), store.revision());
      } finally {
        await store.close();
      }
    } finally {
      raw.close();
      await gate.close();
    }
  });
});

test('etcd URLs name hosts and a prefix; anything else is refused', () => {
  assert.deepEqual(parseEtcdUrl('etcd://h1:2379,h2:2379'), { hosts: ['http://h1:2379', 'http://h2:2379'], prefix: '/slv/' });
  assert.deepEqual(parseEtcdUrl('etcds://h1:2379/fleet'), { hosts: ['https://h1:2379'], prefix: '/fleet/' });
  assert.throws(() => parseEtcdUrl('http://h1:2379'), /must look like etcd:\/\/host:port/);
});

async function waitFor(store: Store, name: string) {
  for (let i = 0; i < 100; i++) {
    const found = await store.tryGet('Sliver', name);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${name} never reached the second store`);
}
