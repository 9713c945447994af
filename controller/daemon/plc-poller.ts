// Polls the PLC source every period (the daemon's main heartbeat, as in the original node
// manager). A failed sync is already reported by PlcSync; the poller just tries again next period.
import type { PlcSync, PlcSyncResult } from '../../adapters/plc/index.js';
import type { Clock } from '../runtime/types.js';

export class PlcPoller {
  private timer: unknown;
  private running: Promise<PlcSyncResult> | undefined;
  private stopped = false;
  private again = false;

  constructor(
    private sync: PlcSync,
    private readonly clock: Clock,
    private periodMs: number,
    /** Called after every sync, whatever its outcome (status file, readiness report). */
    private readonly onSynced: (result: PlcSyncResult) => Promise<void> | void = () => undefined,
  ) {}

  /** Poll another source from the next sync on (SIGHUP). */
  setSync(sync: PlcSync): void {
    this.sync = sync;
  }

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

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.again ? 0 : this.periodMs;
    this.again = false;
    this.timer = this.clock.setTimeout(() => void this.tick(), delay);
  }
}
