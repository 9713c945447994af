// The controllers on real parts: the SQLite store in a temp dir, the sim node persisted in the same
// dir, the runtime's Manager (with a FakeClock where time matters). Reopening the same dir is a
// daemon restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createSimAdapter, type SimAdapter } from '../../adapters/node/sim/index.js';
import { openSqliteStore } from '../../adapters/store/sqlite.js';
import { setupControllers, type ControllerName, type Controllers, type DutiesOptions } from '../../controller/controllers/index.js';
import { FakeClock, Manager } from '../../controller/runtime/index.js';
import type { Clock } from '../../controller/runtime/types.js';
import { parseLoanList } from '../../resources/rspec.js';
import type { Store } from '../../adapters/store/contract.js';
import type { BandwidthLimiter } from '../../adapters/node/contract.js';
import { applyBandwidth } from '../../adapters/node/posix/limits.js';
import { API_VERSION, type Loan, type Sliver, type SliverSpec } from '../../schemas/types.js';
import { sliverSpec } from './sliver-objects.js';

export const TEST_TIMEOUT = { timeout: 30_000 };

const dirs: string[] = [];
/** A fresh world-readable temp dir, removed by `removeTempDirs`. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slv-controllers-'));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Daemon {
  dir: string;
  store: Store;
  node: SimAdapter;
  manager: Manager;
  controllers: Controllers;
  clock: Clock;
  /** Wait until the cache is current and every queue is empty. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  dir?: string;
  clock?: Clock;
  startup?: boolean;
  staggerSeconds?: number;
  workers?: number;
  adoptOrphans?: boolean;
  bandwidth?: BandwidthLimiter;
  /** The sim node applies each sliver's network limits to `bandwidth` by its uid, as the linux adapter does. */
  enforceBandwidth?: boolean;
  /** The node duties' files and conf file source, when a test runs the duty controllers. */
  duties?: DutiesOptions;
  /** Controllers left out. */
  without?: ControllerName[];
}

/** Open store and sim node in `dir` and run the controllers on them. */
export async function startDaemon(options: DaemonOptions = {}): Promise<Daemon> {
  const dir = options.dir ?? tempDir();
  const store = openSqliteStore(join(dir, 'store.db'));
  const node = createSimAdapter({ dataDir: dir });
  if (options.enforceBandwidth && options.bandwidth) enforceBandwidthOn(node, options.bandwidth);
  const clock = options.clock ?? new FakeClock();
  // Fast retries: tests with a FakeClock advance it; with a real clock they must not wait long.
  const manager = new Manager({ store, log: pino({ level: 'silent' }), clock, workers: options.workers ?? 4, resyncPeriodMs: 0, eventRetentionMs: 0, backoff: { baseDelayMs: 5, maxDelayMs: 50 } });
  const controllers = setupControllers(manager, {
    node,
    startup: options.startup ?? false,
    staggerSeconds: options.staggerSeconds ?? 3,
    adoptOrphans: options.adoptOrphans ?? false,
    ...(options.bandwidth ? { bandwidth: options.bandwidth } : {}),
    ...(options.duties ? { duties: options.duties } : {}),
    ...(options.without ? { without: options.without } : {}),
  });
  await manager.start();
  return {
    dir,
    store,
    node,
    manager,
    controllers,
    clock,
    settle: () => manager.waitForIdle(),
    async stop() {
      await manager.close();
      await node.close();
      await store.close();
    },
  };
}

function enforceBandwidthOn(node: SimAdapter, bandwidth: BandwidthLimiter): void {
  const simLimits = node.applyLimits.bind(node);
  node.applyLimits = async (name, rspec) => {
    const report = await simLimits(name, rspec);
    const account = node.inspect(name);
    if (account) await applyBandwidth(bandwidth, account.uid, rspec);
    return report;
  };
}

export { sliverSpec };

export async function createSliver(store: Store, name: string, spec: Partial<SliverSpec> = {}): Promise<Sliver> {
  return store.create<Sliver>({ apiVersion: API_VERSION, kind: 'Sliver', metadata: { name }, spec: sliverSpec(spec) });
}

/** Change a sliver's spec (read, modify, write). */
export async function editSliver(store: Store, name: string, edit: (spec: SliverSpec) => SliverSpec): Promise<Sliver> {
  const sliver = await store.get('Sliver', name);
  return store.update({ ...sliver, spec: edit(structuredClone(sliver.spec)) });
}

export function loanName(from: string, order: number): string {
  return `${from}.${order}`;
}

/**
 * SetLoans as the API does it: validate the whole list first (invalid: false, nothing written),
 * then replace every Loan of `from` with the new list, in order.
 */
export async function setLoans(store: Store, from: string, list: unknown): Promise<boolean> {
  const loans = parseLoanList(list);
  if (!loans) return false;
  for (const loan of (await store.list('Loan')).items) if (loan.spec.from === from) await store.delete('Loan', loan.metadata.name);
  for (const [order, [to, resource, amount]] of loans.entries()) {
    await store.create<Loan>({ apiVersion: API_VERSION, kind: 'Loan', metadata: { name: loanName(from, order) }, spec: { from, to, resource, amount, order } });
  }
  return true;
}

export async function loansOf(store: Store, from: string): Promise<Loan[]> {
  return (await store.list('Loan')).items.filter((loan) => loan.spec.from === from).sort((a, b) => a.spec.order - b.spec.order);
}

export function condition(sliver: { status?: { conditions?: Array<{ type: string; status: string; reason: string }> } } | undefined, type: string) {
  return sliver?.status?.conditions?.find((c) => c.type === type);
}

export { FakeClock };
