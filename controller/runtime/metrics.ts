// Prometheus metrics of the runtime, named as controller-runtime names them so existing dashboards
// and habits apply. Each Manager registers them in its own Registry (never the global one), so two
// managers in one process (tests) do not collide. Queues and reconcilers resolve their label sets
// once (`queueMetrics`, `reconcilerMetrics`): every work item observes five of them.
import { Registry } from '../../adapters/support/prometheus.js';
import { counterFamily, gaugeFamily, histogramFamily, type CounterFamily, type GaugeFamily, type HistogramFamily } from './metric-families.js';

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface RuntimeMetrics {
  registry: Registry;
  reconcileTotal: CounterFamily<'controller' | 'result'>;
  reconcileErrors: CounterFamily<'controller'>;
  reconcileErrorsByReason: CounterFamily<'controller' | 'reason'>;
  reconcileTime: HistogramFamily<'controller'>;
  queueDepth: GaugeFamily<'name'>;
  queueAdds: CounterFamily<'name'>;
  queueRetries: CounterFamily<'name'>;
  queueDuration: HistogramFamily<'name'>;
  workDuration: HistogramFamily<'name'>;
}

export function createRuntimeMetrics(registry: Registry = new Registry()): RuntimeMetrics {
  return {
    registry,
    reconcileTotal: counterFamily({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registry,
    }),
    reconcileErrors: counterFamily({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registry,
    }),
    reconcileErrorsByReason: counterFamily({
      name: 'slv_reconcile_errors_total',
      help: 'Reconciliation errors per controller by reason: the error class (ConflictError, NodeError, CommandError, ...)',
      labelNames: ['controller', 'reason'],
      registry,
    }),
    reconcileTime: histogramFamily({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: DURATION_BUCKETS,
      registry,
    }),
    queueDepth: gaugeFamily({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registry }),
    queueAdds: counterFamily({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registry }),
    queueRetries: counterFamily({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registry }),
    queueDuration: histogramFamily({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS,
      registry,
    }),
    workDuration: histogramFamily({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS,
      registry,
    }),
  };
}

/** One work queue's metrics, its `name` label resolved. */
export function queueMetrics(metrics: RuntimeMetrics, name: string) {
  const labels = { name };
  return {
    depth: metrics.queueDepth.labels(labels),
    adds: metrics.queueAdds.labels(labels),
    retries: metrics.queueRetries.labels(labels),
    queueDuration: metrics.queueDuration.labels(labels),
    workDuration: metrics.workDuration.labels(labels),
  };
}

export type QueueMetrics = ReturnType<typeof queueMetrics>;

/** One reconciler's metrics, its `controller` label resolved (the error reasons are looked up as they come). */
export function reconcilerMetrics(metrics: RuntimeMetrics, controller: string) {
  return {
    time: metrics.reconcileTime.labels({ controller }),
    success: metrics.reconcileTotal.labels({ controller, result: 'success' }),
    requeueAfter: metrics.reconcileTotal.labels({ controller, result: 'requeue_after' }),
    error: metrics.reconcileTotal.labels({ controller, result: 'error' }),
    errors: metrics.reconcileErrors.labels({ controller }),
    errorsByReason: (error: unknown) => metrics.reconcileErrorsByReason.labels({ controller, reason: errorReason(error) }),
  };
}

export type ReconcilerMetrics = ReturnType<typeof reconcilerMetrics>;

/** The `reason` label of a failed reconcile: the error's class (ConflictError, NodeError, CommandError, TypeError, ...), a bounded set. */
export function errorReason(error: unknown): string {
  return error instanceof Error ? error.constructor.name : 'NotAnError';
}
