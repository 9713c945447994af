// Syncing PLC's answer into the store (docs/plc.md). PLC owns the spec of the objects it labels
// managed-by=plc; user-owned data (spec.run, Loans, status, other labels, finalizers) is kept on
// every rewrite. A repeat of the same answer writes nothing. A fetch that fails or an answer that
// is malformed as a whole changes nothing and is reported (log, metrics, lastResult); it never
// throws. A bad record is skipped with a Warning Event and the rest applies.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from '../support/prometheus.js';
import { AccountNameTakenError, InvalidError, NotFoundError, UnauthorizedError, UnavailableError } from '../../resources/errors.js';
import { retryOnConflict } from '../support/retry.js';
import { isPlcOwned, parseGetSlivers, planPlcSync, plcLabels, type PlcPlan, type PlcRecord, type SkippedEntry, type StoredRecord } from '../../resources/plc-records.js';
import type { Store } from '../store/contract.js';
import { recordUpdate } from '../../resources/apply.js';
import { jsonEqual } from '../../resources/equal.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import { ACCOUNT_FINALIZER, API_VERSION, MANAGED_BY_PLC, NODE_CONFIG_NAME, type Kind, type NodeConfig, type NodeConfigSpec, type Delegate, type Sliver } from '../../schemas/types.js';
import { registeredMetric } from '../support/metrics.js';
import { isPlcFault, type GetSliversSource } from './source.js';
import type { PlcStateFile } from './state.js';

export const PLC_SYNC_OUTCOMES = ['applied', 'unreachable', 'unauthorized', 'malformed', 'failed'] as const;
export type PlcSyncOutcome = (typeof PLC_SYNC_OUTCOMES)[number];

export interface PlcSyncResult {
  outcome: PlcSyncOutcome;
  /** When the sync finished (ms since the epoch). */
  at: number;
  /** PLC (or the file) answered, a fault included. */
  reached: boolean;
  created: number;
  updated: number;
  deleted: number;
  /** Names PLC sent that a user owns (left alone). */
  conflicts: string[];
  /** Parts of the answer left out as bad (the rest applied). */
  skipped: SkippedEntry[];
  error?: string;
}

/** The object an Event is about: what the runtime's EventRecorder reads of it. */
interface Involved {
  kind: Kind;
  metadata: { name: string; uid?: string };
}

/** Where warnings about objects go (the runtime's EventRecorder fits). */
export interface PlcWarnings {
  warning(object: Involved, reason: string, message: string): void;
}

export interface PlcSyncOptions {
  store: Store;
  source: GetSliversSource;
  state: PlcStateFile;
  log: Logger;
  registry?: Registry;
  /** Milliseconds since the epoch (a Clock's now). */
  now?: () => number;
  /** Where a user-owned object that PLC also names gets a Warning. */
  events?: PlcWarnings;
}

/** Writes in flight at once: the store commits concurrent writes together (one fsync per group). */
const WRITE_CONCURRENCY = 64;

/** Run `task` over `items`, at most WRITE_CONCURRENCY at a time; the first failure is thrown after all settle. */
async function inBatches<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** Attempts to rewrite one object when a controller changed it meanwhile (finalizers, labels). */
const CONFLICT_RETRIES = 5;

function createMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  // A PlcSync rebuilt on SIGHUP shares the metrics already in the daemon's registry.
  const reuse = <T>(name: string, create: () => T): T => (registry ? registeredMetric(registry, name, create) : create());
  const syncs = reuse('slv_plc_sync_total', () => new Counter({ name: 'slv_plc_sync_total', help: 'PLC syncs by outcome', labelNames: ['outcome'], registers }));
  const writes = reuse('slv_plc_objects_written_total', () => new Counter({ name: 'slv_plc_objects_written_total', help: 'Objects written by the PLC source', labelNames: ['operation'], registers }));
  // Every series from the start, at 0: a labelled counter has no samples until its first increment,
  // and a graph of "no data" cannot tell a quiet PLC from a missing metric.
  for (const outcome of PLC_SYNC_OUTCOMES) syncs.inc({ outcome }, 0);
  for (const operation of ['create', 'update', 'delete']) writes.inc({ operation }, 0);
  return {
    syncs,
    writes,
    lastSuccess: reuse('slv_plc_last_success_timestamp_seconds', () => new Gauge({ name: 'slv_plc_last_success_timestamp_seconds', help: 'When a PLC answer was last applied', registers })),
  };
}

export class PlcSync {
  private readonly store: Store;
  private readonly source: GetSliversSource;
  private readonly state: PlcStateFile;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly metrics: ReturnType<typeof createMetrics>;
  private readonly events: PlcWarnings | undefined;
  lastResult: PlcSyncResult | undefined;
  /** The last sync that applied an answer. */
  lastApplied: PlcSyncResult | undefined;
  /** When PLC (or the file) last answered anything, a fault included (ms since the epoch). */
  lastReached: number | undefined;
  /** Whether PLC accepted the node's credentials at the last sync that got that far; undefined for sources that do not authenticate. */
  authenticated: boolean | undefined;

  constructor(options: PlcSyncOptions) {
    this.store = options.store;
    this.source = options.source;
    this.state = options.state;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.metrics = createMetrics(options.registry);
    this.events = options.events;
  }

  get description(): string {
    return this.source.description;
  }

  /** Fetch, check, plan and apply one answer. Never throws: the result says what happened. */
  async syncOnce(): Promise<PlcSyncResult> {
    const result = await this.attempt();
    this.lastResult = result;
    this.metrics.syncs.inc({ outcome: result.outcome });
    if (result.reached) this.lastReached = result.at;
    if (this.source.authenticates && result.outcome !== 'unreachable') this.authenticated = result.outcome !== 'unauthorized';
    if (result.skipped.length > 0) await this.reportSkipped(result.skipped);
    if (result.outcome === 'applied') {
      this.lastApplied = result;
      this.metrics.lastSuccess.set(result.at / 1000);
      const changed = result.created + result.updated + result.deleted;
      const summary = { created: result.created, updated: result.updated, deleted: result.deleted, conflicts: result.conflicts };
      if (changed > 0) this.log.info(summary, `applied GetSlivers from ${this.source.description}`);
      else this.log.debug(summary, `GetSlivers from ${this.source.description} changed nothing`);
      if (result.conflicts.length > 0) {
        this.log.warn({ names: result.conflicts }, 'PLC sent names that belong to user-owned objects; left them alone');
        await this.reportConflicts(result.conflicts);
      }
    } else {
      this.log.warn({ outcome: result.outcome, error: result.error }, `GetSlivers from ${this.source.description} not applied; keeping the stored state`);
    }
    return result;
  }

  /** Each skipped part as a Warning on the object it concerns (the record's, else NodeConfig/plc). */
  private async reportSkipped(skipped: SkippedEntry[]): Promise<void> {
    this.log.warn({ skipped: skipped.map((entry) => entry.reason) }, `GetSlivers from ${this.source.description}: ${skipped.length} part(s) of the answer skipped as bad; the rest applied`);
    if (!this.events) return;
    for (const entry of skipped) {
      const stored = entry.name === undefined ? undefined : await this.storedNamed(entry.name);
      const about: Involved = stored ?? (entry.name === undefined ? { kind: 'NodeConfig', metadata: { name: NODE_CONFIG_NAME } } : { kind: 'Sliver', metadata: { name: entry.name } });
      const kept = stored ? '; the stored object is kept as it was' : '';
      this.events.warning(about, 'PlcRecordSkipped', `PLC's ${entry.name === undefined ? entry.path : `record "${entry.name}"`} was skipped: ${entry.reason}${kept}`);
    }
  }

  private async reportConflicts(names: string[]): Promise<void> {
    for (const name of names) await this.warn(name, 'PlcNameConflict', `PLC lists "${name}" but this object is not PLC-owned; PLC's record is ignored`);
  }

  /** A Warning Event on the stored Sliver or Delegate of that name, if there is one. */
  private async warn(name: string, reason: string, message: string): Promise<void> {
    if (!this.events) return;
    const object = await this.storedNamed(name);
    if (object) this.events.warning(object, reason, message);
  }

  private async storedNamed(name: string): Promise<Sliver | Delegate | undefined> {
    return (await this.store.tryGet('Sliver', name)) ?? (await this.store.tryGet('Delegate', name));
  }

  private async attempt(): Promise<PlcSyncResult> {
    const empty = { created: 0, updated: 0, deleted: 0, conflicts: [] as string[], skipped: [] as SkippedEntry[] };
    let plan: PlcPlan;
    let nodeConfig: NodeConfigSpec | undefined;
    let skipped: SkippedEntry[];
    let lastFullUpdate: number;
    try {
      const answer = parseGetSlivers(await this.source.fetch());
      lastFullUpdate = this.state.read().lastFullUpdate;
      plan = planPlcSync(await this.storedRecords(), answer.updates, lastFullUpdate, Math.floor(this.now() / 1000));
      nodeConfig = answer.nodeConfig;
      skipped = [...plan.skipped, ...answer.skippedNodeEntries];
    } catch (error) {
      const outcome: PlcSyncOutcome = error instanceof UnauthorizedError ? 'unauthorized' : error instanceof UnavailableError ? 'unreachable' : error instanceof InvalidError ? 'malformed' : 'failed';
      const reached = outcome !== 'unreachable' || isPlcFault(error);
      return { outcome, at: this.now(), reached, ...empty, error: (error as Error).message };
    }
    try {
      const { taken, ...counts } = await this.apply(plan);
      // A replayed older answer does not take the node's configuration back either.
      const nodeConfigWrite = nodeConfig && nodeConfig.timestamp >= lastFullUpdate ? await this.writeNodeConfig(nodeConfig) : undefined;
      if (nodeConfigWrite) counts[nodeConfigWrite] += 1;
      if (plan.minTimestamp !== lastFullUpdate) this.state.write({ lastFullUpdate: plan.minTimestamp });
      return { outcome: 'applied', at: this.now(), reached: true, ...counts, conflicts: [...plan.conflicts, ...taken], skipped };
    } catch (error) {
      // A store failure part-way: what was written is consistent per object, and the next sync
      // (same answer) completes it because records are applied by timestamp.
      return { outcome: 'failed', at: this.now(), reached: true, ...empty, error: (error as Error).message };
    }
  }

  private async storedRecords(): Promise<StoredRecord[]> {
    const [slivers, delegates] = await Promise.all([this.store.list('Sliver'), this.store.list('Delegate')]);
    return [...slivers.items, ...delegates.items].map((object) => ({
      kind: object.kind,
      name: object.metadata.name,
      timestamp: object.spec.timestamp,
      plcOwned: isPlcOwned(object.metadata.labels),
      terminating: object.metadata.deletionTimestamp !== undefined,
    }));
  }

  /** `taken`: records not created because a user's object of the other kind took the name after the plan was made. */
  private async apply(plan: PlcPlan): Promise<{ created: number; updated: number; deleted: number; taken: string[] }> {
    let created = 0;
    let updated = 0;
    let deleted = 0;
    const taken: string[] = [];
    // Deletes first: a record that changed kind is deleted as one kind before it is created as the other.
    await inBatches(plan.deletes, async ({ kind, name }) => {
      try {
        await this.store.delete(kind, name, { deletedBy: `PLC: GetSlivers no longer lists it as a ${kind.toLowerCase()}` });
        deleted += 1;
        this.metrics.writes.inc({ operation: 'delete' });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    });
    await inBatches(plan.upserts, async (record) => {
      try {
        if (await this.upsert(record)) created += 1;
        else updated += 1;
      } catch (error) {
        if (!(error instanceof AccountNameTakenError)) throw error;
        taken.push(record.name);
      }
    });
    return { created, updated, deleted, taken };
  }

  /**
   * NodeConfig/plc from today's answer; what was written, if anything. Its content is compared
   * without the timestamp (which PLC sets to the time of each call), so an unchanged node writes nothing.
   */
  private writeNodeConfig(spec: NodeConfigSpec): Promise<'created' | 'updated' | undefined> {
    return retryOnConflict(
      async () => {
        const existing = await this.store.tryGet('NodeConfig', NODE_CONFIG_NAME);
        if (existing && jsonEqual({ ...existing.spec, timestamp: 0 }, { ...spec, timestamp: 0 })) return undefined;
        const object: NodeConfig = existing
          ? { ...existing, metadata: { ...existing.metadata, labels: plcLabels(existing.metadata.labels) }, spec }
          : { apiVersion: API_VERSION, kind: 'NodeConfig', metadata: { name: NODE_CONFIG_NAME, labels: plcLabels(undefined) }, spec };
        const recorded = recordUpdate(existing, object, MANAGED_BY_PLC, kubernetesTimestamp(Date.now()));
        if (existing) await this.store.update(recorded);
        else await this.store.create(recorded);
        this.metrics.writes.inc({ operation: existing ? 'update' : 'create' });
        return existing ? 'updated' : 'created';
      },
      { attempts: CONFLICT_RETRIES },
    );
  }

  /** Write one record; true when it created the object. */
  private upsert(record: PlcRecord): Promise<boolean> {
    return retryOnConflict(
      async () => {
        const existing = await this.store.tryGet(record.kind, record.name);
        if (!existing) {
          await this.store.create(this.newObject(record));
          this.metrics.writes.inc({ operation: 'create' });
          return true;
        }
        await this.store.update(this.replaceSpec(existing, record));
        this.metrics.writes.inc({ operation: 'update' });
        return false;
      },
      { attempts: CONFLICT_RETRIES },
    );
  }

  /** PLC is recorded as the field manager of what it writes, so an apply by a user cannot silently take it over. */
  private newObject(record: PlcRecord): Sliver | Delegate {
    const metadata = { name: record.name, labels: plcLabels(undefined), finalizers: [ACCOUNT_FINALIZER] };
    const object: Sliver | Delegate =
      record.kind === 'Sliver' ? { apiVersion: API_VERSION, kind: 'Sliver', metadata, spec: record.spec } : { apiVersion: API_VERSION, kind: 'Delegate', metadata, spec: record.spec };
    return recordUpdate(undefined, object, MANAGED_BY_PLC, kubernetesTimestamp(Date.now()));
  }

  /** PLC's fields from the record; user-owned run state and all metadata kept (resourceVersion guards the write). */
  private replaceSpec(existing: Sliver | Delegate, record: PlcRecord): Sliver | Delegate {
    const metadata = { ...existing.metadata, labels: plcLabels(existing.metadata.labels) };
    const run = existing.kind === 'Sliver' ? existing.spec.run : undefined;
    // tryGet(record.kind) found it, so existing and record are of the same kind.
    const replaced = { ...existing, metadata, spec: run ? { ...record.spec, run } : record.spec } as Sliver | Delegate;
    return recordUpdate(existing, replaced, MANAGED_BY_PLC, kubernetesTimestamp(Date.now()));
  }
}
