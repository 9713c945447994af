// CommittedReads answers from the cache only when the cache has seen every write the store has
// committed; a cache that lags is passed by, so a reader always gets the store's current objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../../../adapters/store/memory.js';
import { CommittedReads, type CommittedCache } from '../../../../adapters/store/committed-reads.js';
import { API_VERSION, type AnyObject, type Kind, type KindMap, type Sliver } from '../../../../schemas/types.js';

function sliver(name: string, cpuShare: number): Sliver {
  return {
    apiVersion: API_VERSION,
    kind: 'Sliver',
    metadata: { name },
    spec: { type: 'sliver.VServer', instantiation: 'plc-instantiated', keys: [], initscript: '', rspec: { cpu_share: cpuShare }, delegations: [], timestamp: 1, attributes: {} },
  };
}

/** A cache holding a snapshot of the store taken at `revision`, until refreshed. */
class SnapshotCache implements CommittedCache {
  private objects = new Map<string, AnyObject>();
  private revision = -1;
  reads = 0;

  async refresh(store: MemoryStore): Promise<void> {
    this.objects = new Map((await store.list('Sliver')).items.map((object) => [`Sliver/${object.metadata.name}`, object]));
    this.revision = store.revision();
  }

  hasSeen(revision: number): boolean {
    return this.revision >= revision;
  }

  get<K extends Kind>(kind: K, name: string): KindMap[K] | undefined {
    this.reads++;
    return this.objects.get(`${kind}/${name}`) as KindMap[K] | undefined;
  }

  list<K extends Kind>(kind: K): KindMap[K][] {
    this.reads++;
    return [...this.objects.values()].filter((object) => object.kind === kind) as KindMap[K][];
  }
}

test('a current cache answers; after a write it has not seen, the store does, until it catches up', async () => {
  const store = new MemoryStore();
  const cache = new SnapshotCache();
  const reads = new CommittedReads(store, cache);
  await store.create(sliver('b', 1));
  await store.create(sliver('a', 1));
  await cache.refresh(store);

  assert.equal((await reads.tryGet('Sliver', 'a'))?.spec.rspec.cpu_share, 1);
  assert.deepEqual(
    (await reads.list('Sliver')).map((s) => s.metadata.name),
    ['a', 'b'],
    'ordered by name, as the store lists',
  );
  assert.equal(cache.reads, 2, 'both answered from the cache');

  const current = await store.get('Sliver', 'a');
  await store.update({ ...current, spec: { ...current.spec, rspec: { cpu_share: 2 } } });
  assert.equal((await reads.tryGet('Sliver', 'a'))?.spec.rspec.cpu_share, 2, 'the write is read back although the cache lags');
  assert.equal((await reads.list('Sliver')).find((s) => s.metadata.name === 'a')?.spec.rspec.cpu_share, 2);
  assert.equal(cache.reads, 2, 'the lagging cache was not asked');

  await cache.refresh(store);
  assert.equal((await reads.tryGet('Sliver', 'a'))?.spec.rspec.cpu_share, 2);
  assert.equal(cache.reads, 3, 'caught up: the cache answers again');
  await store.close();
});

test('without a cache every read goes to the store', async () => {
  const store = new MemoryStore();
  await store.create(sliver('a', 3));
  const reads = new CommittedReads(store);
  assert.equal((await reads.tryGet('Sliver', 'a'))?.spec.rspec.cpu_share, 3);
  assert.equal(await reads.tryGet('Sliver', 'missing'), undefined);
  await store.close();
});
