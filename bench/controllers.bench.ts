// Controller figures with the sim node and a real SQLite store: stored specs (as the PLC source
// stores them) to all slivers Ready (1,000 and 10,000), the write path's own share of the 10,000
// (the same status writes with no controller logic and no node), the full effective-rspec computation with
// 10,000 slivers and 50,000 loans, one loan change among 10,000 slivers to its status, and RSS at
// 10,000 slivers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  store: Store;
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
    store,
    async close() {
      await manager.close();
      await node.close();
      await store.close();
    },
  };
}

interface Timed {
  seconds: number;
  cpuSeconds: number;
  /** Bytes this process caused to be written to disk meanwhile (Linux), the store's durable commits almost all of it. */
  writtenMb?: number;
}

/** `write_bytes` of /proc/self/io: where it is missing (not Linux) the figure is left out. */
function diskBytesWritten(): number | undefined {
  let io: string;
  try {
    io = readFileSync('/proc/self/io', 'utf8');
  } catch {
    return undefined;
  }
  const bytes = /^write_bytes: (\d+)$/m.exec(io)?.[1];
  return bytes === undefined ? undefined : Number(bytes);
}

/** Starts the clocks; the returned function reads them. */
function stopwatch(): () => Timed {
  const written = diskBytesWritten();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  return () => {
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const writtenAfter = diskBytesWritten();
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      ...(written === undefined || writtenAfter === undefined ? {} : { writtenMb: (writtenAfter - written) / 2 ** 20 }),
    };
  };
}

/** The figures beside a timed run's wall time. */
function timedExtras(timed: Timed): Record<string, number> {
  return { cpu_s: Number(timed.cpuSeconds.toFixed(2)), ...(timed.writtenMb === undefined ? {} : { disk_written_mb: Number(timed.writtenMb.toFixed(1)) }) };
}

/** A fresh store in `root` holding `count` slivers as the PLC source stores them. */
async function storeWithSlivers(label: string, count: number): Promise<{ dir: string; store: Store }> {
  const dir = mkdtempSync(join(root, `${label}-`));
  const store = openSqliteStore(join(dir, 'store.db'));
  await createAll(
    store,
    Array.from({ length: count }, (_, i) => sliverObject(i)),
  );
  return { dir, store };
}

/** Stored specs (written before the clock starts) to every sliver Ready. */
async function timeToReady(count: number): Promise<Timed & { statusWrites: number; running: Running }> {
  const { dir, store } = await storeWithSlivers(`ready-${count}`, count);
  const revisionBefore = store.revision();
  const names = Array.from({ length: count }, (_, i) => sliverName(i));
  let allReady: Promise<void> = Promise.resolve();
  const elapsed = stopwatch();
  const running = await startControllers(dir, store, (observer) => {
    allReady = observer.waitFor(names, isReady);
  });
  await allReady;
  return { ...elapsed(), statusWrites: store.revision() - revisionBefore, running };
}

/**
 * The write path alone: the store, the informer and the manager making, for each sliver, the
 * status writes the controllers made on the way to Ready (their final statuses, `steps` writes
 * per sliver), with no controller logic and no node adapter. The controllers' time to Ready cannot
 * be below this.
 */
async function writePathAlone(finalStatuses: ReadonlyMap<string, NonNullable<Sliver['status']>>, steps: 1 | 2): Promise<Timed> {
  const { store } = await storeWithSlivers(`write-path-${steps}`, finalStatuses.size);
  const manager = new Manager({ store, log: pino({ level: 'silent' }), workers: WORKERS });
  let remaining = finalStatuses.size;
  let allWritten!: () => void;
  const done = new Promise<void>((resolve) => (allWritten = resolve));
  manager.add({
    name: 'bench-status-writer',
    watches: ['Sliver'],
    async reconcile(name, { store: writer, cache }) {
      const sliver = cache.get('Sliver', name);
      const final = finalStatuses.get(name);
      if (!sliver || !final || sliver.status?.xid !== undefined) return;
      // As the rspec controller does first, when two steps: the effective rspec alone.
      if (steps === 2 && sliver.status === undefined) {
        await writer.updateStatus({ ...sliver, status: { effectiveRSpec: final.effectiveRSpec } });
        return;
      }
      await writer.updateStatus({ ...sliver, status: final });
      if (--remaining === 0) allWritten();
    },
  });
  const elapsed = stopwatch();
  await manager.start();
  await done;
  const timed = elapsed();
  await manager.close();
  await store.close();
  return timed;
}

// 10,000 first, so the RSS figure is not inflated by an earlier run.
const baselineRss = process.memoryUsage().rss;
const large = await timeToReady(10_000);
// The CPU seconds beside the wall time: on a loaded machine the wall time is mostly waiting for a core.
report(BENCH, 'ready_10000_slivers', large.seconds, 's', {
  workers: WORKERS,
  goal: '< 1.5 s',
  ...timedExtras(large),
  status_writes_per_sliver: Number((large.statusWrites / 10_000).toFixed(2)),
  load1: loadavg()[0],
});
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
const finalStatuses = new Map((await large.running.store.list('Sliver')).items.map((sliver) => [sliver.metadata.name, sliver.status!] as const));
await large.running.close();

for (const steps of [2, 1] as const) {
  const alone = await writePathAlone(finalStatuses, steps);
  report(BENCH, `ready_10000_slivers_write_path_alone_${steps}_status_writes`, alone.seconds, 's', {
    workers: WORKERS,
    ...timedExtras(alone),
    beside: 'ready_10000_slivers (goal < 1.5 s)',
    note: `store, informer and manager making ${steps === 2 ? "the controllers' two status writes" : 'one status write'} per sliver; no controller logic, no node`,
  });
}

const small = await timeToReady(1_000);
report(BENCH, 'ready_1000_slivers', small.seconds, 's', { workers: WORKERS, aim: '< 0.4 s', ...timedExtras(small) });
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
