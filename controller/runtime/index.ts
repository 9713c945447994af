// The controller runtime: informer → work queue → reconcile.
//
// Usage (a controller is a Reconciler from controller/runtime/types.ts):
//
//   const manager = new Manager({ store, log, clock /* FakeClock in tests */, workers: 2 });
//   const account = manager.add({
//     name: 'account',
//     watches: ['Sliver', 'Delegate'],
//     indexes: [LOANS_BY_LENDER],                          // optional: read with cache.byIndex
//     keysFor: (event, cache) => (generationChanged(event) ? [event.object.metadata.name] : []), // optional
//     async reconcile(key, { store, cache, log, events, clock }) {
//       const sliver = cache.get('Sliver', key);           // read current state, never the event
//       if (!sliver) return;                               // level-triggered: gone = nothing to do
//       ...drive the node...
//       events.normal(sliver, 'Created', 'account created');
//       return { requeueAfter: 60_000 };                   // optional: look again later
//     },
//   });
//   void manager.addRunnable(new Periodic({ name: 'sweep', clock, periodMs, run: () => account.enqueue('*sweep'), onError }));
//   await manager.start();        // list + watch, queue every existing object, start workers, then runnables
//   await manager.waitForIdle();  // cache current, queues empty, events written
//   await manager.close();        // close runnables, drain queues and stop (SIGTERM)
//
// Guarantees: a key is queued at most once and never reconciled by two workers at once; a key
// changed while being reconciled is reconciled again afterwards; a throw retries the key after
// base·2^n ms (capped; `backoff` option), a TerminalError is recorded and not retried; every
// watched object is re-queued every `resyncPeriodMs` (an event with `resync: true`). Events carry
// `oldObject`, so keysFor can filter with the predicates in predicates.ts. Metrics use
// controller-runtime's names (`manager.registry`); Events go to the store, repeats aggregated
// (`manager.events`). Every part has the same lifecycle: start() once, close() once.
export { FakeClock, systemClock } from './clock.js';
export { DEFAULT_MAX_EVENTS_PER_OBJECT, StoreEventRecorder, eventName, type StoreEventRecorderOptions } from './events.js';
export { Informer, type InformerListener, type InformerOptions } from './informer.js';
export { Periodic, type PeriodicOptions, type PeriodicRunResult } from './periodic.js';
export { anyOf, changedBy, fieldChanged, generationChanged, isResync, labelsChanged, specFieldChanged, type Predicate } from './predicates.js';
export { DEFAULT_RESYNC_PERIOD_MS, DEFAULT_WORKERS, Manager, type ManagerOptions } from './manager.js';
export { createRuntimeMetrics, type RuntimeMetrics } from './metrics.js';
export { DEFAULT_BACKOFF, WorkQueue, backoffDelay, type BackoffOptions, type WorkQueueOptions } from './queue.js';
export type { Cache, ChangeEvent, Clock, ControllerHandle, EventRecorder, IndexDefinition, ReconcileContext, ReconcileResult, Reconciler, Runnable } from './types.js';
