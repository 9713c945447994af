// Counters, gauges and histograms with fixed label names, for the runtime's metrics of every work
// item. prom-client's own check the label names, build a label hash string and look it up at every
// call (five calls per work item, ~5 % of a restart's CPU); here a label set is resolved once into a
// handle (`labels()`) that adds to plain numbers. They register in a prom-client Registry, which
// reads a metric's name, help, type and samples (`getForPromString`, `get`) and formats the
// exposition itself: /metrics is what prom-client's own metrics give for the same observations.
import type { Metric, Registry } from 'prom-client';

type LabelValues<L extends string> = Readonly<Record<L, string>>;

/** One exposition line as prom-client's Registry reads it (labels, then the label set shared by a histogram's lines). */
interface Sample {
  value: number;
  labels: Readonly<Record<string, string | number>>;
  sharedLabels?: Readonly<Record<string, string>>;
  metricName?: string;
  exemplar?: null | undefined;
}

interface FamilyOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}

/** A label set's values; the first observation lists it, so label sets appear in the order prom-client gives them. */
abstract class Child<L extends string> {
  private listed = false;

  constructor(
    readonly labels: LabelValues<L>,
    private readonly observed: Child<L>[],
  ) {}

  protected list(): void {
    if (this.listed) return;
    this.listed = true;
    this.observed.push(this);
  }

  /** Back to never observed (the Registry's `resetMetrics`). */
  reset(): void {
    this.listed = false;
  }
}

abstract class Family<L extends string, C extends Child<L>> {
  name: string; // the Registry renames counters for OpenMetrics
  readonly help: string;
  readonly aggregator = 'sum';
  protected readonly observed: C[] = [];
  private readonly labelNames: readonly L[];
  private readonly children = new Map<string, C>();

  constructor(
    readonly type: 'counter' | 'gauge' | 'histogram',
    options: FamilyOptions<L>,
    private readonly createChild: (labels: LabelValues<L>, observed: Child<L>[]) => C,
  ) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The Registry reads only what a Family has (name, help, type, aggregator, get, getForPromString, reset).
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** The handle of one label set, the same one for the same values; it is exposed once observed. */
  labels(values: LabelValues<L>): C {
    const key = JSON.stringify(this.labelNames.map((name) => values[name]));
    let child = this.children.get(key);
    if (!child) {
      const labels = Object.freeze(Object.fromEntries(this.labelNames.map((name) => [name, values[name]]))) as LabelValues<L>;
      child = this.createChild(labels, this.observed);
      this.children.set(key, child);
    }
    return child;
  }

  reset(): void {
    for (const child of this.children.values()) child.reset();
    this.observed.length = 0;
  }

  getForPromString(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.samples(), aggregator: this.aggregator });
  }

  /** The samples as prom-client's `get()` gives them (getMetricsAsJSON): a histogram line's shared labels merged into its labels. */
  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const metric = await this.getForPromString();
    metric.values = metric.values.map(({ sharedLabels, ...sample }) => (sharedLabels ? { ...sample, labels: { ...sample.labels, ...sharedLabels } } : sample));
    return metric;
  }

  protected abstract samples(): Sample[];
}

abstract class ValueChild<L extends string> extends Child<L> {
  value = 0;

  override reset(): void {
    super.reset();
    this.value = 0;
  }
}

/** A counter's or a gauge's samples: one value per label set. */
class ValueFamily<L extends string, C extends ValueChild<L>> extends Family<L, C> {
  protected samples(): Sample[] {
    return this.observed.map((child) => ({ value: child.value, labels: child.labels }));
  }
}

export class CounterChild<L extends string> extends ValueChild<L> {
  inc(): void {
    this.list();
    this.value += 1;
  }
}

export type CounterFamily<L extends string> = ValueFamily<L, CounterChild<L>>;

export function counterFamily<L extends string>(options: FamilyOptions<L>): CounterFamily<L> {
  return new ValueFamily('counter', options, (labels, observed) => new CounterChild(labels, observed));
}

export class GaugeChild<L extends string> extends ValueChild<L> {
  set(value: number): void {
    this.list();
    this.value = value;
  }
}

export type GaugeFamily<L extends string> = ValueFamily<L, GaugeChild<L>>;

export function gaugeFamily<L extends string>(options: FamilyOptions<L>): GaugeFamily<L> {
  return new ValueFamily('gauge', options, (labels, observed) => new GaugeChild(labels, observed));
}

export class HistogramChild<L extends string> extends Child<L> {
  /** Observations per bucket, not cumulative; the last counts those above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    labels: LabelValues<L>,
    observed: Child<L>[],
    private readonly bounds: readonly number[],
  ) {
    super(labels, observed);
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    this.list();
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
  }

  override reset(): void {
    super.reset();
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramChild<L>> {
  constructor(
    options: FamilyOptions<L>,
    private readonly buckets: readonly number[],
  ) {
    super('histogram', options, (labels, observed) => new HistogramChild(labels, observed, buckets));
  }

  /** Per label set: each bucket cumulative with its `le`, then +Inf, sum and count, as prom-client lists them. */
  protected samples(): Sample[] {
    const bucketName = `${this.name}_bucket`;
    return this.observed.flatMap((child) => {
      let cumulative = 0;
      const lines: Sample[] = this.buckets.map((bound, bucket) => {
        cumulative += child.counts[bucket]!;
        return { labels: { le: bound }, sharedLabels: child.labels, value: cumulative, metricName: bucketName, exemplar: null };
      });
      lines.push(
        { labels: { le: '+Inf' }, sharedLabels: child.labels, value: child.count, metricName: bucketName, exemplar: null },
        { labels: {}, sharedLabels: child.labels, value: child.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: child.labels, value: child.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
      return lines;
    });
  }
}

export function histogramFamily<L extends string>(options: FamilyOptions<L> & { buckets: readonly number[] }): HistogramFamily<L> {
  return new HistogramFamily(options, Object.freeze([...options.buckets]));
}
