// Whole-core scheduling through the real runtime, SQLite store and the sim node (4 CPUs): slivers
// asking for cores get them exclusively, everyone else shares the rest, best effort adds the shared
// CPUs, a request that does not fit is reported, and a sliver that goes gives its cores back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSliver, editSliver, removeTempDirs, startDaemon, TEST_TIMEOUT, type Daemon } from '../../../support/controllers-harness.js';

after(removeTempDirs);

async function pinned(daemon: Daemon, names: string[]): Promise<Record<string, string | undefined>> {
  const entries = await Promise.all(names.map(async (name) => [name, (await daemon.store.tryGet('Sliver', name))?.status?.cpus] as const));
  for (const [name, cpus] of entries) if (cpus !== undefined) assert.equal(daemon.node.inspect(name)?.cpus?.join(','), cpusOf(cpus), `${name}: status and node agree`);
  return Object.fromEntries(entries);
}

function cpusOf(list: string): string {
  return list
    .split(',')
    .flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
    })
    .join(',');
}

test('cpu_cores: exclusive cores, the rest shared, best effort, a request too large, cores given back', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const names = ['site_plain', 'site_two', 'site_eager'];
  await createSliver(daemon.store, 'site_plain');
  await daemon.settle();
  assert.deepEqual(await pinned(daemon, ['site_plain']), { site_plain: undefined }, 'nobody asks for cores: nothing is pinned');
  assert.equal(daemon.node.callCount('pinCpus'), 0);

  await createSliver(daemon.store, 'site_two', { cpuCores: { count: 2, bestEffort: false } });
  await createSliver(daemon.store, 'site_eager', { cpuCores: { count: 1, bestEffort: true } });
  await daemon.settle();
  assert.deepEqual(await pinned(daemon, names), { site_two: '0-1', site_eager: '2-3', site_plain: '3' });

  await editSliver(daemon.store, 'site_eager', (spec) => ({ ...spec, cpuCores: { count: 3, bestEffort: false } }));
  await daemon.settle();
  assert.deepEqual(await pinned(daemon, names), { site_two: '3', site_eager: '0-2', site_plain: '3' }, 'the larger request first; nothing is left to reserve for two: it shares');
  const short = (await daemon.store.list('Event')).items.filter((event) => event.spec.reason === 'CpuCoresShort').map((event) => event.spec.involvedObject.name);
  assert.deepEqual(short, ['site_two']);

  await daemon.store.delete('Sliver', 'site_eager');
  await daemon.settle();
  assert.deepEqual(await pinned(daemon, ['site_two', 'site_plain']), { site_two: '0-1', site_plain: '2-3' }, 'its cores go back to the others');
});
