// Polls the PLC source every period (the daemon's main heartbeat, as in the original node
// manager). A failed sync is already reported by PlcSync; the poller just tries again next period.
import type { PlcSync, PlcSyncResult } from '../adapters/plc/index.js';
import type { Clock } from './types.js';

export class PlcPoller {
  private timer: unknown;
  private running: Promise<PlcSyncResult> | undefined;
  private stopped = false;

  constructor(
    private readonly sync: PlcSync,
    private readonly clock: Clock,
    private periodMs: number,
  ) {}

  /** Sync now, then every period. Resolves after the first sync. */
  async start(): Promise<PlcSyncResult> {
    return this.tick();
  }

  /** Change the period (SIGHUP); the next sync is scheduled with the new one. */
  setPeriod(periodMs: number): void {
    this.periodMs = periodMs;
    if (this.timer !== undefined && !this.running) {
      this.clock.clearTimeout(this.timer);
      this.schedule();
    }
  }

  /** Sync now (unless a sync is in flight, which is awaited instead). */
  async tick(): Promise<PlcSyncResult> {
    if (this.running) return this.running;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.sync.syncOnce();
    try {
      return await this.running;
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

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), this.periodMs);
  }
}
