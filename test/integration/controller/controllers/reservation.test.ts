// The reservation duty through the real runtime, SQLite store and sim node, with a FakeClock that
// walks through two leases: exactly the holder runs at each instant, also across a restart of the
// daemon in the middle of a lease; each sliver's status says whether it holds the lease and until when.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/index.js';
import { API_VERSION, NODE_CONFIG_NAME, type Lease, type NodeConfig, type ReservationPolicy } from '../../../../schemas/types.js';
import type { Store } from '../../../../adapters/store/contract.js';
import { LEASE_CPU_MIN } from '../../../../resources/reservations.js';
import { createSliver, removeTempDirs, startDaemon, tempDir, TEST_TIMEOUT, type Daemon } from '../../../support/controllers-harness.js';

after(removeTempDirs);

const SLIVERS = ['site_alpha', 'site_beta', 'site_gamma'];
/** A minute boundary (the leases' granularity here is a minute), in unix seconds. */
const T = 1_700_000_040;
const LEASES: Lease[] = [
  { sliceId: 1, sliver: 'site_alpha', from: T + 60, until: T + 180 },
  { sliceId: 2, sliver: 'site_beta', from: T + 180, until: T + 300 },
];

const rfc3339 = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

async function setPolicy(store: Store, reservationPolicy: ReservationPolicy): Promise<void> {
  const spec = { timestamp: 1, accounts: [], confFiles: [], reservationPolicy, leases: LEASES, leaseGranularity: 60, groups: [] };
  const current = await store.tryGet('NodeConfig', NODE_CONFIG_NAME);
  if (current) await store.update({ ...current, spec });
  else await store.create<NodeConfig>({ apiVersion: API_VERSION, kind: 'NodeConfig', metadata: { name: NODE_CONFIG_NAME }, spec });
}

async function running(daemon: Daemon): Promise<string[]> {
  const states = await Promise.all(SLIVERS.map(async (name) => ((await daemon.node.isRunning(name)) ? [name] : [])));
  return states.flat();
}

async function leaseStatus(daemon: Daemon): Promise<Record<string, string>> {
  const entries = await Promise.all(
    SLIVERS.map(async (name) => {
      const status = (await daemon.store.get('Sliver', name)).status;
      return [name, status?.leaseHeld ? `held until ${status.leaseUntil}` : String(status?.leaseHeld)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

test('lease_or_idle: exactly the lease holder runs at each instant, across a restart mid-lease; policy none gives the slivers back', TEST_TIMEOUT, async (t) => {
  const dir = tempDir();
  const clock = new FakeClock(T * 1000);
  let daemon = await startDaemon({ dir, clock });
  t.after(() => daemon.stop());
  for (const name of SLIVERS) await createSliver(daemon.store, name);
  await daemon.settle();
  assert.deepEqual(await running(daemon), SLIVERS, 'no policy: all run');

  await setPolicy(daemon.store, 'lease_or_idle');
  await daemon.settle();
  assert.deepEqual(await running(daemon), [], 'before the first lease the node is idle');
  assert.deepEqual(await leaseStatus(daemon), { site_alpha: 'false', site_beta: 'false', site_gamma: 'false' });

  clock.advance(59_000);
  await daemon.settle();
  assert.deepEqual(await running(daemon), [], 'a second before the lease');
  clock.advance(1_000);
  await daemon.settle();
  assert.deepEqual(await running(daemon), ['site_alpha'], 'at the lease start, its holder');
  assert.deepEqual(await leaseStatus(daemon), { site_alpha: `held until ${rfc3339(T + 180)}`, site_beta: 'false', site_gamma: 'false' });

  // Restart in the middle of alpha's lease, the clock having moved on meanwhile.
  await daemon.stop();
  const restartedClock = new FakeClock((T + 120) * 1000);
  daemon = await startDaemon({ dir, clock: restartedClock });
  await daemon.settle();
  assert.deepEqual(await running(daemon), ['site_alpha'], 'after the restart mid-lease');

  restartedClock.advance(60_000);
  await daemon.settle();
  assert.deepEqual(await running(daemon), ['site_beta'], 'at the second lease, its holder only');
  assert.deepEqual(await leaseStatus(daemon), { site_alpha: 'false', site_beta: `held until ${rfc3339(T + 300)}`, site_gamma: 'false' });

  restartedClock.advance(120_000);
  await daemon.settle();
  assert.deepEqual(await running(daemon), [], 'after the last lease the node is idle');

  await setPolicy(daemon.store, 'none');
  await daemon.settle();
  assert.deepEqual(await running(daemon), SLIVERS, 'policy none: the stopped slivers run again');
  assert.deepEqual(await leaseStatus(daemon), { site_alpha: 'undefined', site_beta: 'undefined', site_gamma: 'undefined' });
});

/** Each sliver's CPU guarantee as applied to the node. */
function cpuMins(daemon: Daemon): Record<string, number | undefined> {
  return Object.fromEntries(SLIVERS.map((name) => [name, daemon.node.inspect(name)?.limits?.cpu_min]));
}

test('lease_or_shared: everyone keeps running, the holder gets the CPU guarantee while it holds the lease', TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock((T + 60) * 1000);
  const daemon = await startDaemon({ clock });
  t.after(() => daemon.stop());
  for (const name of SLIVERS) await createSliver(daemon.store, name, { rspec: { cpu_min: name === 'site_gamma' ? 2000 : 0 } });
  await setPolicy(daemon.store, 'lease_or_shared');
  await daemon.settle();
  assert.deepEqual(await running(daemon), SLIVERS);
  assert.deepEqual(await leaseStatus(daemon), { site_alpha: `held until ${rfc3339(T + 180)}`, site_beta: 'false', site_gamma: 'false' });
  assert.equal((await daemon.store.get('Sliver', 'site_alpha')).status?.leaseCpuMin, LEASE_CPU_MIN);
  assert.deepEqual(cpuMins(daemon), { site_alpha: LEASE_CPU_MIN, site_beta: 0, site_gamma: 2000 });

  clock.advance(120_000);
  await daemon.settle();
  assert.deepEqual(await running(daemon), SLIVERS);
  assert.deepEqual(cpuMins(daemon), { site_alpha: 0, site_beta: LEASE_CPU_MIN, site_gamma: 2000 }, "at beta's lease the guarantee moves to beta");
  assert.equal((await daemon.store.get('Sliver', 'site_alpha')).status?.leaseCpuMin, undefined);

  clock.advance(120_000);
  await daemon.settle();
  assert.deepEqual(cpuMins(daemon), { site_alpha: 0, site_beta: 0, site_gamma: 2000 }, 'no lease: nobody has the extra guarantee');
});

test('lease_or_shared after lease_or_idle: the slivers lease_or_idle stopped run again', TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock((T + 60) * 1000);
  const daemon = await startDaemon({ clock });
  t.after(() => daemon.stop());
  for (const name of SLIVERS) await createSliver(daemon.store, name);
  await setPolicy(daemon.store, 'lease_or_idle');
  await daemon.settle();
  assert.deepEqual(await running(daemon), ['site_alpha']);
  await setPolicy(daemon.store, 'lease_or_shared');
  await daemon.settle();
  assert.deepEqual(await running(daemon), SLIVERS);
});
