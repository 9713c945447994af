// Fleet figures (docs/fleet.md "Cost"): a three-member etcd on loopback, ten nodes (the real
// controllers on sim nodes, SQLite stores, each node in its own worker thread: bench/fleet-node.ts)
// linked by NodeSync, 200 slivers written per node through namespace stores as the fleet API writes them. Propagation = from the fleet write's acknowledgement
// to the node's Ready status visible in etcd (goal: p99 under 1 s; the original polled every
// 10-15 minutes). Also etcd writes per status change the nodes made, heartbeat writes, etcd size.
import { cpus, loadavg } from 'node:os';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { connect, heartbeatKey, openNamespace, type FleetConnection } from '../adapters/fleet/layout.js';
import type { EtcdStore } from '../adapters/store/etcd.js';
import { API_VERSION, type Sliver } from '../schemas/types.js';
import { removeTempDirs, sliverSpec, tempDir } from '../test/support/controllers-harness.js';
import { EtcdCluster, etcdMissing } from '../test/support/etcd.js';
import { report } from './report.js';
import { epochMs, isReady, type FleetNodeData, type FleetNodeReport } from './fleet-node.js';

const BENCH = 'fleet';
const NODES = 10;
const SLIVERS_PER_NODE = 200;
const ROOT = '/fleet/';
/** A worker thread does not inherit the main thread's tsx loader: it loads fleet-node.ts through tsx's API. */
const LOAD_NODE = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(new URL('./fleet-node.ts', import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

if (etcdMissing) {
  process.stderr.write(`bench/fleet: skipped, ${etcdMissing}\n`);
} else {
  const cluster = new EtcdCluster(3);
  const nodes: Worker[] = [];
  const namespaces: EtcdStore[] = [];
  const admin = { client: undefined as ReturnType<typeof connect> | undefined };
  try {
    await cluster.start();
    const fleet: FleetConnection = { hosts: cluster.endpoints, root: ROOT };
    admin.client = connect(fleet);
    for (let i = 1; i <= NODES; i++) {
      const node = new Worker(LOAD_NODE, { eval: true, workerData: { fleet, node: `node-${i}`, dir: tempDir() } satisfies FleetNodeData });
      nodes.push(node);
      await once(node, 'message');
      namespaces.push(await openNamespace(admin.client, fleet, `node-${i}`));
    }

    // The fleet side's view: when each sliver's Ready status reaches etcd, and how many status writes there were.
    const acknowledged = new Map<string, number>();
    const readyAt = new Map<string, number>();
    let statusWrites = 0;
    const statusTxns = new Set<string>();
    let heartbeatWrites = 0;
    const watcher = await admin.client.watch().prefix(ROOT).create();
    watcher.on('put', (kv) => {
      const key = kv.key.toString();
      if (key.startsWith(`${ROOT}heartbeats/`)) return void heartbeatWrites++;
      // <root>namespaces/<node>/status/Sliver/<name>: the node's status writes.
      const [node, part, , name] = key.slice(`${ROOT}namespaces/`.length).split('/');
      if (part !== 'status') return;
      const status = JSON.parse(kv.value.toString()) as Sliver['status'];
      statusWrites++;
      statusTxns.add(kv.mod_revision);
      if (isReady(status) && !readyAt.has(`${node}/${name}`)) readyAt.set(`${node}/${name}`, epochMs());
    });

    const started = epochMs();
    await Promise.all(
      namespaces.map(async (store, n) => {
        for (let i = 0; i < SLIVERS_PER_NODE; i++) {
          const name = `s${i}`;
          await store.create<Sliver>({ apiVersion: API_VERSION, kind: 'Sliver', metadata: { name }, spec: sliverSpec() });
          acknowledged.set(`node-${n + 1}/${name}`, epochMs());
        }
      }),
    );
    const writeSeconds = (epochMs() - started) / 1000;
    const total = NODES * SLIVERS_PER_NODE;
    const deadline = epochMs() + 300_000;
    while (readyAt.size < total && epochMs() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const allReadySeconds = (epochMs() - started) / 1000;
    const heartbeat = await admin.client.get(heartbeatKey(ROOT, 'node-1')).string();
    process.stderr.write(`bench/fleet: node-1 heartbeat ${heartbeat}\n`);
    // Where the time goes, per sliver: when the node's store held it (mirrored) and when it was Ready there.
    const mirroredAt = new Map<string, number>();
    const readyLocallyAt = new Map<string, number>();
    let localStatusChanges = 0;
    for (const [i, node] of nodes.entries()) {
      node.postMessage('stop');
      const [figures] = (await once(node, 'message')) as [FleetNodeReport];
      for (const [name, at] of figures.mirroredAt) mirroredAt.set(`node-${i + 1}/${name}`, at);
      for (const [name, at] of figures.readyAt) readyLocallyAt.set(`node-${i + 1}/${name}`, at);
      localStatusChanges += figures.statusChanges;
    }

    /** p50 and p99 of the time from `from` to `to`, over the slivers that reached both. */
    const spread = (from: Map<string, number>, to: Map<string, number>) => {
      const sorted = [...from]
        .filter(([id]) => to.has(id))
        .map(([id, at]) => to.get(id)! - at)
        .sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    };
    const [load1] = loadavg();
    const shape = { nodes: NODES, slivers: total, members: 3, loadavg1: Number(load1!.toFixed(2)), cores: cpus().length };
    const propagation = spread(acknowledged, readyAt);
    report(BENCH, 'propagation_p50', propagation.p50, 'ms', { ...shape, goal: 'p99 < 1000 ms' });
    report(BENCH, 'propagation_p99', propagation.p99, 'ms', { ...shape, goal: 'p99 < 1000 ms', met: propagation.p99 < 1000 });
    // The three legs: etcd → the node's store (watch + mirror), the node's controllers, Ready → etcd (publish).
    for (const [leg, from, to] of [
      ['to_node', acknowledged, mirroredAt],
      ['controllers', mirroredAt, readyLocallyAt],
      ['publish', readyLocallyAt, readyAt],
    ] as const) {
      const { p50, p99 } = spread(from, to);
      report(BENCH, `leg_${leg}`, p50, 'ms p50', { ...shape, p99 });
    }
    report(BENCH, 'slivers_ready_in_fleet', readyAt.size, 'slivers', shape);
    report(BENCH, 'fleet_write_rate', total / writeSeconds, 'writes/s', { ...shape, note: 'ten namespace stores writing at once, each one write in flight' });
    report(BENCH, 'all_ready_after', allReadySeconds, 's', shape);
    report(BENCH, 'etcd_writes_per_status_change', statusWrites / Math.max(1, localStatusChanges), 'writes/change', { ...shape, statusWrites, localStatusChanges });
    report(BENCH, 'status_writes_per_txn', statusWrites / Math.max(1, statusTxns.size), 'keys/txn', {
      ...shape,
      statusTxns: statusTxns.size,
      note: 'statuses a node publishes together share one etcd txn',
    });
    report(BENCH, 'heartbeat_writes', heartbeatWrites / NODES / (allReadySeconds / 60), 'writes/node/min', { ...shape, note: 'rewritten only when counts change; liveness is a lease keepalive' });
    const status = await admin.client.maintenance.status();
    report(BENCH, 'etcd_db_size', Number(status.dbSize) / 1e6, 'MB', { ...shape, note: 'before compaction, history included' });
    await watcher.cancel();
  } finally {
    for (const node of nodes) await node.terminate();
    for (const store of namespaces) await store.close();
    admin.client?.close();
    await cluster.stop();
    removeTempDirs();
  }
}
