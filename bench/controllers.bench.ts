// Controller figures with the sim node and a real SQLite store: stored specs (as the PLC source
// stores them) to all slivers Ready (1,000 and 10,000), the full effective-rspec computation with
// 10,000 slivers and 50,000 loans, one loan change among 10,000 slivers to its status, and RSS at
// 10,000 slivers.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createSimAdapter } from '../adapters/node/sim/index.js';
import { openSqliteStore } from '../adapters/store/sqlite.js';
import { setupControllers } from '../controller/controllers/index.js';
import { Manager } from '../controller/runtime/index.js';
import type { Reconciler } from '../controller/runtime/types.js';
import { computeEffectiveRSpecs } from '../resources/rspec.js';
import type { Store } from '../adapters/store/contract.js';
import type { Loan, Sliver } from '../schemas/types.js';
import { loanInputs, loanObject, sliverName, sliverObject } from './objects.js';
import { report } from './report.js';

const BENCH = 'controllers';
// Many workers let the store commit many writes together (one durable commit per event-loop turn).
const WORKERS = Number(process.env.SLV_BENCH_WORKERS ?? 256);
const root = mkdtempSync(join(tmpdir(), 'slv-bench-controllers-'));

async function createAll(store: Store, objects: Array<Sliver | Loan>): Promise<void> {
  const batch = 512;
  for (let i = 0; i < objects.length; i += batch) await Promise.all(objects.slice(i, i + batch).map((object) => store.create(object)));
}

function isReady(sliver: Sliver): boolean {
  return sliver.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * Sees every Sliver change the manager's informer delivers (a reconciler that queues nothing), so
 * the bench waits for conditions without a second watch parsing every event again.
 */
class SliverObserver {
  private waiters: Array<{ pending: Set<string>; predicate: (sliver: Sliver) => boolean; resolve: () => void }> = [];
  readonly reconciler: Reconciler = {
    name: 'bench-observer',
    watches: ['Sliver'],
    keysFor: (event) => {
      if (event.type !== 'DELETED') this.observe(event.object as Sliver);
      return [];
    },
    reconcile: async () => undefined,
  };

  /** Resolves once `predicate` has held for a version of every named sliver seen after this call. */
  waitFor(names: Iterable<string>, predicate: (sliver: Sliver) => boolean): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ pending: new Set(names), predicate, resolve }));
  }

  private observe(sliver: Sliver): void {
    for (const waiter of this.waiters) if (waiter.pending.has(sliver.metadata.name) && waiter.predicate(sliver)) waiter.pending.delete(sliver.metadata.name);
    for (const done of this.waiters.filter((w) => w.pending.size === 0)) done.resolve();
    this.waiters = this.waiters.filter((w) => w.pending.size > 0);
  }
}

interface Running {
  manager: Manager;
  observer: SliverObserver;
  close(): Promise<void>;
}

/** The controllers on the sim node in `dir`; `beforeStart` runs once the observer can see changes. */
async function startControllers(dir: string, store: Store, beforeStart: (observer: SliverObserver) => void = () => undefined): Promise<Running> {
  const node = createSimAdapter({ dataDir: dir });
  const manager = new Manager({ store, log: pino({ level: 'silent' }), workers: WORKERS });
  setupControllers(manager, { node, startup: false, staggerSeconds: 3 });
  const observer = new SliverObserver();
  manager.add(observer.reconciler);
  beforeStart(observer);
  await manager.start();
  return {
    manager,
    observer,
    async close() {
      await manager.close();
      await node.close();
      await store.close();
    },
  };
}

/** Stored specs (written before the clock starts) to every sliver Ready. */
async function timeToReady(count: number): Promise<{ seconds: number; cpuSeconds: number; running: Running }> {
  const dir = mkdtempSync(join(root, `ready-${count}-`));
  const store = openSqliteStore(join(dir, 'store.db'));
  await createAll(
    store,
    Array.from({ length: count }, (_, i) => sliverObject(i)),
  );
  const names = Array.from({ length: count }, (_, i) => sliverName(i));
  let allReady: Promise<void> = Promise.resolve();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const running = await startControllers(dir, store, (observer) => {
    allReady = observer.waitFor(names, isReady);
  });
  await allReady;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, running };
}

// 10,000 first, so the RSS figure is not inflated by an earlier run.
const baselineRss = process.memoryUsage().rss;
const large = await timeToReady(10_000);
// The CPU seconds beside the wall time: on a loaded machine the wall time is mostly waiting for a core.
report(BENCH, 'ready_10000_slivers', large.seconds, 's', { workers: WORKERS, goal: '< 1.5 s', cpu_s: Number(large.cpuSeconds.toFixed(2)), load1: loadavg()[0] });
await large.running.manager.waitForIdle();
globalThis.gc?.();
const memory = process.memoryUsage();
report(BENCH, 'rss_10000_slivers', memory.rss / 2 ** 20, 'MB', {
  goal: '< 150 MB',
  load1: loadavg()[0],
  // Where RSS goes beyond the live heap: V8's reserved heap, Buffers and native allocations (SQLite).
  heap_used_mb: Number((memory.heapUsed / 2 ** 20).toFixed(1)),
  heap_total_mb: Number((memory.heapTotal / 2 ** 20).toFixed(1)),
  external_mb: Number((memory.external / 2 ** 20).toFixed(1)),
  rss_before_start_mb: Number((baselineRss / 2 ** 20).toFixed(1)),
  note: 'whole process: modules under tsx, store, cache, sim node, queues',
});
await large.running.close();

const small = await timeToReady(1_000);
report(BENCH, 'ready_1000_slivers', small.seconds, 's', { workers: WORKERS, aim: '< 0.4 s', cpu_s: Number(small.cpuSeconds.toFixed(2)) });
await small.running.close();

// The pure computation over everything, as a full recompute would do it.
const loans = loanInputs(10_000, 5);
const rspecs = new Map(Array.from({ length: 10_000 }, (_, i) => [sliverName(i), sliverObject(i).spec.rspec] as const));
const fullTimes: number[] = [];
for (let run = 0; run < 5; run++) {
  const start = performance.now();
  computeEffectiveRSpecs(rspecs, loans);
  fullTimes.push(performance.now() - start);
}
report(BENCH, 'effective_rspec_full_10000_slivers_50000_loans', Math.min(...fullTimes), 'ms', { runs: 5, statistic: 'min' });

// One loan change among 10,000 slivers and 50,000 loans, from the write to the target's status.
{
  const dir = mkdtempSync(join(root, 'loan-change-'));
  const store = openSqliteStore(join(dir, 'store.db'));
  await createAll(
    store,
    Array.from({ length: 10_000 }, (_, i) => sliverObject(i)),
  );
  await createAll(store, loans.map(loanObject));
  const syncStart = performance.now();
  const running = await startControllers(dir, store);
  await running.manager.waitForIdle();
  report(BENCH, 'first_sync_10000_slivers_50000_loans', (performance.now() - syncStart) / 1000, 's', {
    workers: WORKERS,
    note: 'every account created and every Sliver and Loan status written',
  });
  const times: number[] = [];
  for (let run = 0; run < 7; run++) {
    const loan = await store.get('Loan', `${sliverName(100 + run)}.0`);
    const target = await store.get('Sliver', loan.spec.to);
    const expected = (target.status?.effectiveRSpec?.[loan.spec.resource] ?? 0) + 1;
    const reflected = running.observer.waitFor([loan.spec.to], (sliver) => sliver.status?.effectiveRSpec?.[loan.spec.resource] === expected);
    const start = performance.now();
    await store.update({ ...loan, spec: { ...loan.spec, amount: loan.spec.amount + 1 } });
    await reflected;
    times.push(performance.now() - start);
    await running.manager.waitForIdle();
  }
  times.sort((a, b) => a - b);
  report(BENCH, 'one_loan_change_to_status_10000_slivers', times[Math.floor(times.length / 2)] as number, 'ms', {
    runs: times.length,
    statistic: 'median',
    max: Number((times.at(-1) as number).toFixed(1)),
    aim: '< 50 ms',
  });
  await running.close();
}

rmSync(root, { recursive: true, force: true });
