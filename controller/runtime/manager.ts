// The Manager runs Reconcilers: one shared informer feeds one work queue per controller, each
// drained by N workers. A reconcile that throws is retried with backoff (TerminalError: recorded,
// not retried); one bad object never stops a controller. Metrics, logs and events per controller.
// Runnables (pollers, periodic sweeps, status writers) start once the cache is synced and close
// before the controllers do.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { InvariantError, TerminalError } from '../../resources/errors.js';
import type { Store } from '../../adapters/store/contract.js';
import { Lifecycle, type LifecycleState, type LongLived } from '../../adapters/support/lifecycle.js';
import { DELETED_BY_ANNOTATION, type AnyObject, type Kind } from '../../schemas/types.js';
import type { Cache, ChangeEvent, Clock, ControllerHandle, EventRecorder, ReconcileContext, ReconcileResult, Reconciler, Runnable } from './types.js';
import { systemClock } from './clock.js';
import { StoreEventRecorder } from './events.js';
import { Informer } from './informer.js';
import type { CommittedCache } from '../../adapters/store/committed-reads.js';
import { createRuntimeMetrics, reconcilerMetrics, type ReconcilerMetrics, type RuntimeMetrics } from './metrics.js';
import { Periodic } from './periodic.js';
import { WorkQueue, type BackoffOptions } from './queue.js';

export interface ManagerOptions {
  store: Store;
  log: Logger;
  clock?: Clock;
  /** Registry for the runtime metrics (a new one if absent); serve it on /metrics. */
  registry?: Registry;
  /** Workers per controller. */
  workers?: number;
  /** Every object of a watched kind is re-queued this often (0 = never). */
  resyncPeriodMs?: number;
  backoff?: BackoffOptions;
  maxEventsPerObject?: number;
  /** How long the Events of a deleted object are kept after its last one (default an hour, as Kubernetes'; 0 = kept, never collected). */
  eventRetentionMs?: number;
}

export const DEFAULT_EVENT_RETENTION_MS = 60 * 60_000;
/** The event garbage collector runs this often at most (and at least once per retention). */
const MAX_EVENT_GC_PERIOD_MS = 10 * 60_000;

export const DEFAULT_WORKERS = 2;
export const DEFAULT_RESYNC_PERIOD_MS = 10 * 60_000;

interface Controller {
  reconciler: Reconciler;
  queue: WorkQueue;
  context: ReconcileContext;
  metrics: ReconcilerMetrics;
  workers: Promise<void>[];
}

interface ChangeListener {
  kinds: readonly Kind[];
  listener: (event: ChangeEvent) => void;
}

export class Manager implements LongLived {
  readonly metrics: RuntimeMetrics;
  readonly events: StoreEventRecorder;
  readonly clock: Clock;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly workerCount: number;
  private readonly lifecycle = new Lifecycle('the manager');
  private readonly informer: Informer;
  private readonly resync: Periodic;
  private readonly eventCollector: Periodic;
  private readonly backoff: BackoffOptions | undefined;
  private readonly controllers = new Map<string, Controller>();
  private readonly runnables: Array<{ runnable: Runnable; started: (error?: unknown) => void }> = [];
  private readonly changeListeners: ChangeListener[] = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: ManagerOptions) {
    this.store = options.store;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.workerCount = Math.max(1, options.workers ?? DEFAULT_WORKERS);
    this.backoff = options.backoff;
    this.metrics = createRuntimeMetrics(options.registry);
    this.events = new StoreEventRecorder({
      store: this.store,
      clock: this.clock,
      log: this.log.child({ component: 'events' }),
      ...(options.maxEventsPerObject !== undefined ? { maxPerObject: options.maxEventsPerObject } : {}),
    });
    this.events.onSettled(() => this.checkIdle());
    this.informer = new Informer({ store: this.store, clock: this.clock, log: this.log.child({ component: 'informer' }) });
    this.informer.onEvent((event) => this.dispatch(event));
    this.informer.onProgress(() => this.checkIdle());
    this.resync = new Periodic({
      name: 'resync',
      clock: this.clock,
      periodMs: options.resyncPeriodMs ?? DEFAULT_RESYNC_PERIOD_MS,
      runAtStart: false,
      run: () => this.resyncAll(),
      onError: (error) => this.log.error({ err: error }, 'resync failed'),
    });
    const eventRetentionMs = options.eventRetentionMs ?? DEFAULT_EVENT_RETENTION_MS;
    this.eventCollector = new Periodic({
      name: 'event-gc',
      clock: this.clock,
      periodMs: Math.min(eventRetentionMs, MAX_EVENT_GC_PERIOD_MS), // 0: only when triggered, which nothing does
      runAtStart: false,
      run: () => this.events.collectGarbage(eventRetentionMs),
      onError: (error) => this.log.warn({ err: error }, 'collecting the Events of deleted objects failed; retried next period'),
    });
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** The informer cache (kept current by watch) that reconcilers read. */
  get cache(): Cache {
    return this.informer;
  }

  /** The same cache with what readers outside the controllers need to tell it is current (the XML-RPC shim). */
  get committedCache(): CommittedCache {
    return this.informer;
  }

  get registry(): Registry {
    return this.metrics.registry;
  }

  /** Register a reconciler and the indexes it reads; all must be added before start(). */
  add(reconciler: Reconciler): ControllerHandle {
    this.lifecycle.require(`add controller "${reconciler.name}"`, 'new');
    if (this.controllers.has(reconciler.name)) throw new InvariantError(`controller "${reconciler.name}" is already registered`);
    for (const index of reconciler.indexes ?? []) this.informer.addIndex(index.kind, index.name, index.keys);
    const queue = new WorkQueue({
      name: reconciler.name,
      clock: this.clock,
      metrics: this.metrics,
      onSettled: () => this.checkIdle(),
      ...(this.backoff ? { backoff: this.backoff } : {}),
    });
    const context: ReconcileContext = {
      store: this.store,
      cache: this.informer,
      log: this.log.child({ controller: reconciler.name }),
      events: this.events.forSource(reconciler.name),
      clock: this.clock,
    };
    this.controllers.set(reconciler.name, { reconciler, queue, context, metrics: reconcilerMetrics(this.metrics, reconciler.name), workers: [] });
    // For triggers that are not store changes (a periodic sweep, the daemon at start).
    return { name: reconciler.name, enqueue: (key) => queue.add(key) };
  }

  /**
   * Run `runnable` with the manager: started once the cache is synced (at once if the manager
   * already runs), closed before the controllers, in reverse order of adding. Resolves when it
   * has started; a failed start is logged and rejects.
   */
  addRunnable(runnable: Runnable): Promise<void> {
    this.lifecycle.require(`add runnable "${runnable.name}"`, 'new', 'starting', 'running');
    return new Promise<void>((resolve, reject) => {
      const entry = { runnable, started: (error?: unknown) => (error === undefined ? resolve() : reject(error)) };
      this.runnables.push(entry);
      if (this.lifecycle.is('running')) void this.startRunnable(entry);
    });
  }

  /** Call `listener` after every cache change of one of `kinds` (for runnables that follow the cache). */
  onChange(kinds: readonly Kind[], listener: (event: ChangeEvent) => void): void {
    this.changeListeners.push({ kinds, listener });
  }

  /** List and watch, queue every existing object, start the workers, then the runnables. */
  async start(): Promise<void> {
    await this.lifecycle.start(async () => {
      await this.events.start();
      await this.informer.start();
      for (const controller of this.controllers.values()) {
        await controller.queue.start();
        for (let i = 0; i < this.workerCount; i++) controller.workers.push(this.work(controller));
      }
      await this.resync.start();
      await this.eventCollector.start();
      this.log.info({ controllers: [...this.controllers.keys()] }, 'controllers started');
    });
    await Promise.all(this.runnables.map((entry) => this.startRunnable(entry)));
  }

  /** The informer lists and watches (the store is reachable and the cache current). */
  isReady(): boolean {
    return this.lifecycle.is('running') && this.informer.isWatching();
  }

  /**
   * Resolves once the cache has seen every store write, no key is queued or being reconciled, and
   * every event is written. Retries and requeues scheduled for later do not count as work. A
   * closing manager counts as idle: a runnable waiting here must not hold up its own close.
   */
  waitForIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /**
   * Close the runnables (last added first), stop taking changes, let the workers finish what is
   * queued, write pending events. A runnable that fails to close is logged; the rest still close.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      this.checkIdle();
      for (const { runnable } of [...this.runnables].reverse()) {
        await runnable.close().catch((error: unknown) => this.log.error({ err: error, runnable: runnable.name }, 'closing a runnable failed'));
      }
      await this.resync.close();
      await this.eventCollector.close();
      await this.informer.close();
      for (const controller of this.controllers.values()) await controller.queue.close();
      await Promise.all([...this.controllers.values()].flatMap((c) => c.workers));
      await this.events.close();
      this.checkIdle();
    });
  }

  private async startRunnable(entry: { runnable: Runnable; started: (error?: unknown) => void }): Promise<void> {
    try {
      await entry.runnable.start();
      entry.started();
    } catch (error) {
      this.log.error({ err: error, runnable: entry.runnable.name }, 'a runnable failed to start');
      entry.started(error);
    }
  }

  private idle(): boolean {
    if (this.lifecycle.is('closing', 'closed')) return true;
    if (!this.lifecycle.is('running') || !this.informer.hasSeen(this.store.revision())) return false;
    for (const controller of this.controllers.values()) if (!controller.queue.isIdle()) return false;
    return this.events.pending() === 0;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.idle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * A Deleted Event when an object's deletion starts (it gets a deletionTimestamp, or goes at once
   * without finalizers), saying who deleted it when the deleter said (the deleted-by annotation).
   */
  private recordDeletion(event: ChangeEvent): void {
    const { object, oldObject } = event;
    if (object.kind === 'Event' || oldObject?.metadata.deletionTimestamp !== undefined) return;
    const starts = event.type === 'DELETED' || (event.type === 'MODIFIED' && object.metadata.deletionTimestamp !== undefined);
    if (!starts) return;
    const by = object.metadata.annotations?.[DELETED_BY_ANNOTATION];
    this.events.record('store', object, 'Normal', 'Deleted', `${object.kind.toLowerCase()} ${object.metadata.name} deleted${by ? ` by ${by}` : ''}`);
  }

  private dispatch(event: ChangeEvent): void {
    this.recordDeletion(event);
    for (const controller of this.controllers.values()) {
      if (controller.reconciler.watches.includes(event.object.kind)) this.enqueueFor(controller, event);
    }
    for (const { kinds, listener } of this.changeListeners) {
      if (!kinds.includes(event.object.kind)) continue;
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error, object: `${event.object.kind}/${event.object.metadata.name}` }, 'a change listener failed');
      }
    }
  }

  private enqueueFor(controller: Controller, event: ChangeEvent): void {
    try {
      const keys = controller.reconciler.keysFor ? controller.reconciler.keysFor(event, this.informer) : [event.object.metadata.name];
      for (const key of keys) controller.queue.add(key);
    } catch (error) {
      controller.context.log.error({ err: error, object: `${event.object.kind}/${event.object.metadata.name}` }, 'keysFor failed; change not queued');
    }
  }

  /** Queue every cached object again: the safety net for anything a watch event missed. */
  private resyncAll(): void {
    for (const controller of this.controllers.values()) {
      for (const kind of controller.reconciler.watches) {
        for (const object of this.informer.list(kind)) {
          this.enqueueFor(controller, { type: 'MODIFIED', object, oldObject: object, resync: true, revision: Number(object.metadata.resourceVersion ?? 0) });
        }
      }
    }
  }

  /** The object a key names, if it is of a kind the controller watches (where its events go). */
  private watchedObject(controller: Controller, key: string): AnyObject | undefined {
    for (const kind of controller.reconciler.watches) {
      const object = this.informer.get(kind, key);
      if (object) return object;
    }
    return undefined;
  }

  private async work(controller: Controller): Promise<void> {
    for (;;) {
      const key = await controller.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileOne(controller, key);
      } finally {
        controller.queue.done(key);
      }
    }
  }

  private async reconcileOne(controller: Controller, key: string): Promise<void> {
    const { metrics } = controller;
    const context = new KeyContext(controller.context, key);
    const started = this.clock.now();
    let result: ReconcileResult | void;
    try {
      result = await controller.reconciler.reconcile(key, context);
    } catch (error) {
      metrics.errors.inc();
      metrics.errorsByReason(error).inc();
      metrics.error.inc();
      const message = error instanceof Error ? error.message : String(error);
      const object = this.watchedObject(controller, key);
      if (error instanceof TerminalError) {
        controller.queue.forget(key);
        context.log.error({ err: error }, 'reconcile failed permanently; not retrying');
        if (object) controller.context.events.warning(object, 'ReconcileFailed', message);
      } else {
        controller.queue.addRateLimited(key);
        context.log.warn({ err: error, failures: controller.queue.failuresOf(key) }, 'reconcile failed; retrying with backoff');
        if (object) controller.context.events.warning(object, 'ReconcileError', message);
      }
      return;
    } finally {
      metrics.time.observe((this.clock.now() - started) / 1000);
    }
    controller.queue.forget(key);
    if (result?.requeueAfter !== undefined && result.requeueAfter > 0) {
      metrics.requeueAfter.inc();
      controller.queue.addAfter(key, result.requeueAfter);
    } else {
      metrics.success.inc();
    }
  }
}

/**
 * The controller's context for one reconcile of `key`: its logger (the controller's, with the key)
 * is made when first used; most reconciles log nothing, and a pino child per reconcile was
 * one of the allocations of every reconcile. A class, not an object literal with a getter: V8
 * builds such a literal through the runtime, ~5 µs each (~3 % of a restart's CPU).
 */
class KeyContext implements ReconcileContext {
  readonly store: Store;
  readonly cache: Cache;
  readonly events: EventRecorder;
  readonly clock: Clock;
  private logger: Logger | undefined;

  constructor(
    private readonly base: ReconcileContext,
    private readonly key: string,
  ) {
    this.store = base.store;
    this.cache = base.cache;
    this.events = base.events;
    this.clock = base.clock;
  }

  get log(): Logger {
    return (this.logger ??= this.base.log.child({ key: this.key }));
  }
}
