// Polls the PLC source every period (the daemon's main heartbeat, as in the original node
// manager): a periodic source that runs the sync at start and one period after each sync. A failed
// sync is already reported by PlcSync; the poller just tries again next period.
import type { Logger } from 'pino';
import type { PlcSync, PlcSyncResult } from '../../adapters/plc/index.js';
import type { LifecycleState } from '../../adapters/support/lifecycle.js';
import { Periodic } from '../runtime/periodic.js';
import type { Clock, Runnable } from '../runtime/types.js';

export interface PlcPollerOptions {
  sync: PlcSync;
  clock: Clock;
  periodMs: number;
  log: Logger;
  /** Called after every sync, whatever its outcome (status file, readiness report). */
  onSynced?: (result: PlcSyncResult) => Promise<void> | void;
}

export class PlcPoller implements Runnable {
  readonly name = 'plc-poller';
  private sync: PlcSync;
  private readonly periodic: Periodic;

  constructor(options: PlcPollerOptions) {
    this.sync = options.sync;
    const onSynced = options.onSynced ?? (() => undefined);
    this.periodic = new Periodic({
      name: this.name,
      clock: options.clock,
      periodMs: options.periodMs,
      run: async () => onSynced(await this.sync.syncOnce()),
      onError: (error) => options.log.error({ err: error }, 'PLC poll failed'),
    });
  }

  get state(): LifecycleState {
    return this.periodic.state;
  }

  /** Poll another source from the next sync on (SIGHUP). */
  setSync(sync: PlcSync): void {
    this.sync = sync;
  }

  /** Sync now, then every period. Resolves after the first sync. */
  start(): Promise<void> {
    return this.periodic.start();
  }

  /** Change the period (SIGHUP); the next sync is scheduled with the new one. */
  setPeriod(periodMs: number): void {
    this.periodic.setPeriod(periodMs);
  }

  /** Sync soon; if a sync is in flight, another one follows it (the source may have changed). */
  trigger(): void {
    this.periodic.trigger();
  }

  /** No more syncs; waits for one in flight. */
  close(): Promise<void> {
    return this.periodic.close();
  }
}
