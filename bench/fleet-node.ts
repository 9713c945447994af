// One fleet node of bench/fleet.bench.ts in its own worker thread, as a node is its own process on
// its own machine: the real controllers on a sim node with a SQLite store (whose commits block the
// thread while they fsync), linked to etcd by NodeSync. It reports, in epoch milliseconds, when each
// fleet sliver reached its store and became Ready there, and how many status changes it made.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { NodeSync } from '../adapters/fleet/node-sync.js';
import type { FleetConnection } from '../adapters/fleet/layout.js';
import { systemClock } from '../controller/runtime/clock.js';
import { isFleetOwned } from '../resources/fleet.js';
import type { Sliver } from '../schemas/types.js';
import { startDaemon } from '../test/support/controllers-harness.js';

export interface FleetNodeData {
  fleet: FleetConnection;
  node: string;
  /** The node's data dir (the main thread removes it). */
  dir: string;
}

export interface FleetNodeReport {
  mirroredAt: Array<[string, number]>;
  readyAt: Array<[string, number]>;
  statusChanges: number;
}

/** A time comparable across threads (each thread's performance.now() has its own origin). */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export const isReady = (status: Sliver['status']): boolean => status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

if (parentPort) {
  const port = parentPort;
  const { fleet, node, dir } = workerData as FleetNodeData;
  const daemon = await startDaemon({ dir, clock: systemClock });
  const report: FleetNodeReport = { mirroredAt: [], readyAt: [], statusChanges: 0 };
  const ready = new Set<string>();
  daemon.store.watch(
    { kind: 'Sliver' },
    {
      onEvent: ({ type, object }) => {
        if (!isFleetOwned(object)) return;
        const name = object.metadata.name;
        if (type === 'ADDED') report.mirroredAt.push([name, epochMs()]);
        if (type === 'MODIFIED' && object.status !== undefined) report.statusChanges++;
        if (isReady((object as Sliver).status) && !ready.has(name)) {
          ready.add(name);
          report.readyAt.push([name, epochMs()]);
        }
      },
    },
  );
  const sync = new NodeSync({ fleet, node, local: daemon.store, log: pino({ level: 'silent' }), heartbeatSeconds: 5 });
  sync.start();
  port.once('message', () => {
    void (async () => {
      await sync.close();
      await daemon.stop();
      port.postMessage(report);
    })();
  });
  port.postMessage('started');
}
