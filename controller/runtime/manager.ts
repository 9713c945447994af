// The Manager runs Reconcilers: one shared informer feeds one work queue per controller, each
// drained by N workers. A reconcile that throws is retried with backoff (TerminalError: recorded,
// not retried); one bad object never stops a controller. Metrics, logs and events per controller.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { IllegalStateError, InvariantError, TerminalError, type LifecycleState } from '../../resources/errors.js';
import type { Store, WatchEvent } from '../../adapters/store/contract.js';
import type { AnyObject, Kind } from '../../schemas/types.js';
import type { Cache, Clock, ReconcileContext, ReconcileResult, Reconciler } from './types.js';
import { systemClock } from './clock.js';
import { StoreEventRecorder } from './events.js';
import { Informer } from './informer.js';
import { createRuntimeMetrics, type RuntimeMetrics } from './metrics.js';
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
}

export const DEFAULT_WORKERS = 2;
export const DEFAULT_RESYNC_PERIOD_MS = 10 * 60_000;

interface Controller {
  reconciler: Reconciler;
  queue: WorkQueue;
  context: ReconcileContext;
  workers: Promise<void>[];
}


export class Manager {
  readonly metrics: RuntimeMetrics;
  readonly events: StoreEventRecorder;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly workerCount: number;
  private readonly resyncPeriodMs: number;
  private readonly backoff: BackoffOptions | undefined;
  private readonly informer: Informer;
  private readonly controllers = new Map<string, Controller>();
  private readonly idleWaiters: Array<() => void> = [];
  private resyncTimer: unknown;
  private phase: LifecycleState = 'new';

  constructor(options: ManagerOptions) {
    this.store = options.store;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.workerCount = Math.max(1, options.workers ?? DEFAULT_WORKERS);
    this.resyncPeriodMs = options.resyncPeriodMs ?? DEFAULT_RESYNC_PERIOD_MS;
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
  }

  /** The informer cache (kept current by watch) that reconcilers read. */
  get cache(): Cache {
    return this.informer;
  }

  get registry(): Registry {
    return this.metrics.registry;
  }

  /** Register a reconciler; all must be added before start(). */
  add(reconciler: Reconciler): void {
    if (this.phase !== 'new') throw new IllegalStateError('the manager', this.phase, `add controller "${reconciler.name}"`);
    if (this.controllers.has(reconciler.name)) throw new InvariantError(`controller "${reconciler.name}" is already registered`);
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
    this.controllers.set(reconciler.name, { reconciler, queue, context, workers: [] });
  }

  /** List and watch, queue every existing object, start the workers. */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new IllegalStateError('the manager', this.phase, 'start');
    this.phase = 'running';
    await this.informer.start();
    for (const controller of this.controllers.values()) {
      for (let i = 0; i < this.workerCount; i++) controller.workers.push(this.work(controller));
    }
    this.scheduleResync();
    this.log.info({ controllers: [...this.controllers.keys()] }, 'controllers started');
  }

  /** Queue a key for one controller (for triggers that are not store changes). */
  enqueue(controllerName: string, key: string): void {
    const controller = this.controllers.get(controllerName);
    if (!controller) throw new InvariantError(`no controller named "${controllerName}"`);
    controller.queue.add(key);
  }

  /** The informer lists and watches (the store is reachable and the cache current). */
  isReady(): boolean {
    return this.phase === 'running' && this.informer.isWatching();
  }

  /**
   * Resolves once the cache has seen every store write, no key is queued or being reconciled, and
   * every event is written. Retries and requeues scheduled for later do not count as work.
   */
  waitForIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /** Stop taking changes, let the workers finish what is queued, write pending events. */
  async stop(): Promise<void> {
    if (this.phase === 'closed' || this.phase === 'closing') return;
    this.phase = 'closing';
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.informer.stop();
    for (const controller of this.controllers.values()) controller.queue.shutdown();
    await Promise.all([...this.controllers.values()].flatMap((c) => c.workers));
    await this.events.flush();
    this.phase = 'closed';
    this.checkIdle();
  }

  private idle(): boolean {
    if (this.phase === 'closed') return true;
    if (this.phase !== 'running' || !this.informer.hasSeen(this.store.revision())) return false;
    for (const controller of this.controllers.values()) if (!controller.queue.isIdle()) return false;
    return this.events.pending() === 0;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.idle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private dispatch(event: WatchEvent): void {
    if (event.type === 'DELETED') this.events.forgetObject(event.object.kind, event.object.metadata.name);
    for (const controller of this.controllers.values()) {
      if (controller.reconciler.watches.includes(event.object.kind)) this.enqueueFor(controller, event);
    }
  }

  private enqueueFor(controller: Controller, event: WatchEvent): void {
    try {
      const keys = controller.reconciler.keysFor ? controller.reconciler.keysFor(event) : [event.object.metadata.name];
      for (const key of keys) controller.queue.add(key);
    } catch (error) {
      controller.context.log.error({ err: error, object: `${event.object.kind}/${event.object.metadata.name}` }, 'keysFor failed; change not queued');
    }
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resync();
      this.scheduleResync();
    }, this.resyncPeriodMs);
  }

  /** Queue every cached object again: the safety net for anything a watch event missed. */
  private resync(): void {
    for (const controller of this.controllers.values()) {
      for (const kind of controller.reconciler.watches) {
        for (const object of this.informer.list(kind as Kind)) {
          this.enqueueFor(controller, { type: 'MODIFIED', object, revision: Number(object.metadata.resourceVersion ?? 0) });
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
    const name = controller.reconciler.name;
    const log = controller.context.log.child({ key });
    const started = this.clock.now();
    let result: ReconcileResult | void;
    try {
      result = await controller.reconciler.reconcile(key, { ...controller.context, log });
    } catch (error) {
      this.metrics.reconcileErrors.inc({ controller: name });
      this.metrics.reconcileTotal.inc({ controller: name, result: 'error' });
      const message = error instanceof Error ? error.message : String(error);
      const object = this.watchedObject(controller, key);
      if (error instanceof TerminalError) {
        controller.queue.forget(key);
        log.error({ err: error }, 'reconcile failed permanently; not retrying');
        if (object) controller.context.events.warning(object, 'ReconcileFailed', message);
      } else {
        controller.queue.addRateLimited(key);
        log.warn({ err: error, failures: controller.queue.failuresOf(key) }, 'reconcile failed; retrying with backoff');
        if (object) controller.context.events.warning(object, 'ReconcileError', message);
      }
      return;
    } finally {
      this.metrics.reconcileTime.observe({ controller: name }, (this.clock.now() - started) / 1000);
    }
    controller.queue.forget(key);
    if (result?.requeueAfter !== undefined && result.requeueAfter > 0) {
      this.metrics.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
      controller.queue.addAfter(key, result.requeueAfter);
    } else {
      this.metrics.reconcileTotal.inc({ controller: name, result: 'success' });
    }
  }
}
