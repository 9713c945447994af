// Polls the PLC source every period (the daemon's main heartbeat), as today's node manager does:
// a random delay up to `jitterMs` is added to each period so a fleet does not poll in step, and a
// PLC that cannot be reached is tried again soon, backing off (doubling from retryBaseMs up to
// the period). A failed sync is already reported by PlcSync.
import type { PlcSync, PlcSyncResult } from '../../adapters/plc/index.js';
import type { Clock } from '../runtime/types.js';

export interface PollTiming {
  periodMs: number;
  /** Up to this much is added at random to each period (default 0). */
  jitterMs?: number;
}

export interface PollerOptions {
  /** First retry after an unreachable PLC (default 5 s); doubles per failure, at most the period. */
  retryBaseMs?: number;
  /** A number in [0, 1) (Math.random; tests pass their own). */
  random?: () => number;
}

export const DEFAULT_RETRY_BASE_MS = 5_000;

export class PlcPoller {
  private timer: unknown;
  private running: Promise<PlcSyncResult> | undefined;
  private stopped = false;
  private again = false;
  /** Syncs in a row that could not reach PLC. */
  private failures = 0;
  private readonly retryBaseMs: number;
  private readonly random: () => number;

  constructor(
    private sync: PlcSync,
    private readonly clock: Clock,
    private timing: PollTiming,
    /** Called after every sync, whatever its outcome (status file, readiness report). */
    private readonly onSynced: (result: PlcSyncResult) => Promise<void> | void = () => undefined,
    options: PollerOptions = {},
  ) {
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.random = options.random ?? Math.random;
  }

  /** Poll another source from the next sync on (SIGHUP). */
  setSync(sync: PlcSync): void {
    this.sync = sync;
  }

  /** Sync now, then every period. Resolves after the first sync. */
  async start(): Promise<PlcSyncResult> {
    return this.tick();
  }

  /** Change the period and jitter (SIGHUP); the next sync is scheduled with the new ones. */
  setTiming(timing: PollTiming): void {
    this.timing = timing;
    if (this.timer !== undefined && !this.running) {
      this.clock.clearTimeout(this.timer);
      this.schedule();
    }
  }

  /** Sync now; if a sync is in flight, another one follows it (the source may have changed). */
  async tick(): Promise<PlcSyncResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.sync.syncOnce();
    try {
      const result = await this.running;
      this.failures = result.outcome === 'unreachable' ? this.failures + 1 : 0;
      await this.onSynced(result);
      return result;
    } finally {
      this.running = undefined;
      this.schedule();
    }
  }

  /** No more syncs; waits for one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The delay before the next sync: now if asked, a backoff after a network failure, else period + jitter. */
  private nextDelayMs(): number {
    const { periodMs, jitterMs = 0 } = this.timing;
    if (this.again) return 0;
    if (this.failures > 0) return Math.min(periodMs, this.retryBaseMs * 2 ** Math.min(this.failures - 1, 30));
    return periodMs + Math.floor(this.random() * jitterMs);
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.nextDelayMs();
    this.again = false;
    this.timer = this.clock.setTimeout(() => void this.tick(), delay);
  }
}
