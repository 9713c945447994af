// A periodic source: runs a task at start (or after one period) and then one period after each run
// ends, on an injected clock, optionally with jitter so that many nodes do not act in step. A
// trigger() runs it soon, coalescing bursts: during a run it only asks for one more run afterwards.
// A run may ask for its successor sooner or later than a period (a retry backing off after a failure).
// With a period of 0 it runs only when triggered (a change-driven writer such as status.json).
import { Lifecycle, type LifecycleState } from '../../adapters/support/lifecycle.js';
import type { Clock, Runnable } from './types.js';

export interface PeriodicOptions {
  /** Names the task in logs and errors. */
  name: string;
  clock: Clock;
  /** From the end of one run to the start of the next; 0: only when triggered. */
  periodMs: number;
  /** Run once at start (the default: start() resolves after that run), or first after one period. */
  runAtStart?: boolean;
  /** Each wait is lengthened by up to this fraction of the period, at random (default 0). */
  jitter?: number;
  /** Uniform in [0, 1): Math.random unless a test fixes it. */
  random?: () => number;
  run(): Promise<PeriodicRunResult | void> | PeriodicRunResult | void;
  /** A run that threw; the period goes on. */
  onError(error: unknown): void;
}

export interface PeriodicRunResult {
  /** Wait this long before the next run instead of a period (with no jitter). */
  nextRunInMs?: number;
}

export class Periodic implements Runnable {
  readonly name: string;
  private readonly options: PeriodicOptions;
  private readonly lifecycle: Lifecycle;
  private periodMs: number;
  private jitter: number;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(options: PeriodicOptions) {
    this.name = options.name;
    this.options = options;
    this.periodMs = options.periodMs;
    this.jitter = options.jitter ?? 0;
    this.lifecycle = new Lifecycle(`the periodic task ${options.name}`);
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  start(): Promise<void> {
    return this.lifecycle.start(() => ((this.options.runAtStart ?? true) ? this.runNow() : this.schedule()));
  }

  /** Run soon; if a run is in progress, once more right after it. Ignored unless started. */
  trigger(): void {
    if (!this.lifecycle.is('starting', 'running')) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.clearTimer();
    this.timer = this.options.clock.setTimeout(() => this.fire(), 0);
  }

  /** A new period (and jitter, if given); the next wait (and a pending one, restarted from now) uses it. */
  setPeriod(periodMs: number, jitter = this.jitter): void {
    this.periodMs = periodMs;
    this.jitter = jitter;
    if (this.timer !== undefined && !this.running) {
      this.clearTimer();
      this.schedule();
    }
  }

  /** No more runs; waits for one in progress. */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      this.clearTimer();
      await this.running;
    });
  }

  private fire(): void {
    this.timer = undefined;
    void this.runNow();
  }

  private async runNow(): Promise<void> {
    this.clearTimer();
    let asked: number | undefined;
    this.running = (async () => {
      try {
        asked = (await this.options.run())?.nextRunInMs;
      } catch (error) {
        this.options.onError(error);
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
      this.schedule(asked);
    }
  }

  private schedule(askedWait?: number): void {
    if (this.lifecycle.is('closing', 'closed')) return;
    const delay = this.again ? 0 : (askedWait ?? this.nextWait());
    this.again = false;
    if (delay !== undefined) this.timer = this.options.clock.setTimeout(() => this.fire(), delay);
  }

  private nextWait(): number | undefined {
    if (this.periodMs <= 0) return undefined;
    const { jitter } = this;
    return jitter > 0 ? this.periodMs + Math.floor(jitter * this.periodMs * (this.options.random ?? Math.random)()) : this.periodMs;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
