// The runtime's metric families against prom-client's own Counter, Gauge and Histogram: the same
// observations give the same exposition byte for byte (text and OpenMetrics, with default labels),
// the same JSON, and the same after a reset; label sets resolved but never observed do not appear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { counterFamily, gaugeFamily, histogramFamily } from '../../../../controller/runtime/metric-families.js';
import { createRuntimeMetrics, queueMetrics, reconcilerMetrics } from '../../../../controller/runtime/metrics.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Values on every bound, just beside them, 0, above the last bound, and a deterministic spread of fractions whose sum rounds. */
function observations(): number[] {
  const values = [0, 1e-9, 61, 1e6];
  for (const bound of BUCKETS) values.push(bound, bound * (1 - 1e-12), bound * (1 + 1e-12));
  let seed = 12345;
  for (let i = 0; i < 200; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push((seed / 2 ** 31) ** 3 * 70);
  }
  return values;
}

async function assertSameExposition(promClient: Registry, ours: Registry): Promise<void> {
  assert.equal(await ours.metrics(), await promClient.metrics());
  assert.deepEqual(await ours.getMetricsAsJSON(), await promClient.getMetricsAsJSON());
}

/** Two registries of one content type (prom-client's types tie a metric's registry to the Prometheus one). */
function registries(contentType: RegistryContentType): { promClient: Registry; ours: Registry } {
  const [promClient, ours] = [new Registry(), new Registry()];
  for (const registry of [promClient, ours]) (registry as Registry<RegistryContentType>).setContentType(contentType);
  return { promClient, ours };
}

for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
  test(`families expose what prom-client's metrics expose for the same observations (${contentType.split(';')[0]})`, async () => {
    const { promClient, ours } = registries(contentType);
    const help = 'Help with a \\ backslash and a\nnew line';
    const labelNames = ['controller', 'result'] as const;
    const counter = new Counter({ name: 'test_total', help, labelNames, registers: [promClient] });
    const gauge = new Gauge({ name: 'test_depth', help, labelNames: ['name'], registers: [promClient] });
    const histogram = new Histogram({ name: 'test_seconds', help, labelNames: ['name'], buckets: BUCKETS, registers: [promClient] });
    new Histogram({ name: 'test_untouched_seconds', help, labelNames: ['name'], buckets: BUCKETS, registers: [promClient] });
    const ourCounter = counterFamily({ name: 'test_total', help, labelNames, registry: ours });
    const ourGauge = gaugeFamily({ name: 'test_depth', help, labelNames: ['name'], registry: ours });
    const ourHistogram = histogramFamily({ name: 'test_seconds', help, labelNames: ['name'], buckets: BUCKETS, registry: ours });
    const ourUntouched = histogramFamily({ name: 'test_untouched_seconds', help, labelNames: ['name'], buckets: BUCKETS, registry: ours });

    // Resolved before any observation and in another order than they are first observed; one never observed.
    const names = ['zeta', 'alpha', 'quote " back \\ slash \n newline'];
    const handles = new Map(names.map((name) => [name, ourHistogram.labels({ name })]));
    ourUntouched.labels({ name: 'never' });
    ourCounter.labels({ controller: 'never', result: 'success' });
    ourGauge.labels({ name: 'never' });
    await assertSameExposition(promClient, ours);

    const values = observations();
    values.forEach((value, i) => {
      const name = names[(i * 7) % names.length]!;
      histogram.observe({ name }, value);
      handles.get(name)!.observe(value);
      const labels = { controller: name, result: i % 5 === 0 ? 'error' : 'success' };
      counter.inc(labels);
      ourCounter.labels(labels).inc();
      gauge.set({ name }, i % 13);
      ourGauge.labels({ name }).set(i % 13);
    });
    await assertSameExposition(promClient, ours);
    assert.match(await ours.metrics(), /test_seconds_bucket\{le="0.001",name="zeta"\} \d+/);

    promClient.setDefaultLabels({ node: 'n1', name: 'default' });
    ours.setDefaultLabels({ node: 'n1', name: 'default' });
    await assertSameExposition(promClient, ours);

    promClient.resetMetrics();
    ours.resetMetrics();
    await assertSameExposition(promClient, ours);
    histogram.observe({ name: 'alpha' }, 0.5);
    handles.get('alpha')!.observe(0.5);
    await assertSameExposition(promClient, ours);
  });
}

test('a histogram refuses a value that is not a finite number, as prom-client does', () => {
  const family = histogramFamily({ name: 'test_seconds', help: 'h', labelNames: ['name'], buckets: BUCKETS, registry: new Registry() });
  const handle = family.labels({ name: 'a' });
  for (const value of [NaN, Infinity, -Infinity]) assert.throws(() => handle.observe(value), { name: 'TypeError', message: /not a valid number/ });
  assert.equal(handle.count, 0);
});

test('labels() gives one handle per label set', () => {
  const family = counterFamily({ name: 'test_total', help: 'h', labelNames: ['a', 'b'], registry: new Registry() });
  assert.equal(family.labels({ a: 'x', b: 'y' }), family.labels({ b: 'y', a: 'x' }));
  assert.notEqual(family.labels({ a: 'x', b: 'y' }), family.labels({ a: 'x,b:y', b: '' }));
});

/** The runtime's metrics as they were defined with prom-client's own classes. */
function promClientRuntimeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    reconcileTotal: new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers }),
    reconcileErrors: new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers }),
    reconcileErrorsByReason: new Counter({
      name: 'slv_reconcile_errors_total',
      help: 'Reconciliation errors per controller by reason: the error class (ConflictError, NodeError, CommandError, ...)',
      labelNames: ['controller', 'reason'],
      registers,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers }),
    queueAdds: new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers }),
    queueRetries: new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers }),
    queueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets: BUCKETS,
      registers,
    }),
    workDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets: BUCKETS,
      registers,
    }),
  };
}

test("the runtime's metrics keep the names, help, labels and buckets they had as prom-client metrics", async () => {
  const { promClient, ours } = registries(Registry.PROMETHEUS_CONTENT_TYPE);
  const before = promClientRuntimeMetrics(promClient);
  const runtime = createRuntimeMetrics(ours);
  const controllers = ['rspec', 'account', 'expiry'];
  const queues = new Map(controllers.map((name) => [name, queueMetrics(runtime, name)]));
  const reconcilers = new Map(controllers.map((name) => [name, reconcilerMetrics(runtime, name)]));
  const values = observations();
  values.forEach((value, i) => {
    const name = controllers[i % (i < 50 ? 2 : 3)]!; // expiry's first observation comes later
    const queue = queues.get(name)!;
    const reconciler = reconcilers.get(name)!;
    before.queueAdds.inc({ name });
    queue.adds.inc();
    before.queueDepth.set({ name }, i % 7);
    queue.depth.set(i % 7);
    before.queueDuration.observe({ name }, value);
    queue.queueDuration.observe(value);
    before.workDuration.observe({ name }, value / 3);
    queue.workDuration.observe(value / 3);
    before.reconcileTime.observe({ controller: name }, value / 7);
    reconciler.time.observe(value / 7);
    if (i % 11 === 0) {
      const error = i % 2 === 0 ? new RangeError('r') : new TypeError('t');
      before.reconcileErrors.inc({ controller: name });
      reconciler.errors.inc();
      before.reconcileErrorsByReason.inc({ controller: name, reason: error.constructor.name });
      reconciler.errorsByReason(error).inc();
      before.reconcileTotal.inc({ controller: name, result: 'error' });
      reconciler.error.inc();
      before.queueRetries.inc({ name });
      queue.retries.inc();
    } else if (i % 4 === 0) {
      before.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
      reconciler.requeueAfter.inc();
    } else {
      before.reconcileTotal.inc({ controller: name, result: 'success' });
      reconciler.success.inc();
    }
  });
  await assertSameExposition(promClient, ours);
});
