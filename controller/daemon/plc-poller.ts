// Polls the PLC source every period (the daemon's main heartbeat), as today's node manager does: a
// periodic source that runs the sync at start and again after each sync, a random delay up to
// `jitterMs` added to each period so a fleet does not poll in step. A PLC that cannot be reached is
// tried again soon, backing off (doubling from retryBaseMs up to the period). A failed sync is
// already reported by PlcSync.
import type { Logger } from 'pino';
import type { PlcSync, PlcSyncResult } from '../../adapters/plc/index.js';
import type { LifecycleState } from '../../adapters/support/lifecycle.js';
import { Periodic, type PeriodicRunResult } from '../runtime/periodic.js';
import type { Clock, Runnable } from '../runtime/types.js';

export interface PollTiming {
  periodMs: number;
  /** Up to this much is added at random to each period (default 0). */
  jitterMs?: number;
}

export interface PlcPollerOptions extends PollTiming {
  sync: PlcSync;
  clock: Clock;
  log: Logger;
  /** Called after every sync, whatever its outcome (status file, readiness report). */
  onSynced?: (result: PlcSyncResult) => Promise<void> | void;
  /** First retry after an unreachable PLC (default 5 s); doubles per failure, at most the period. */
  retryBaseMs?: number;
  /** A number in [0, 1) (Math.random; tests pass their own). */
  random?: () => number;
}

export const DEFAULT_RETRY_BASE_MS = 5_000;

/** Periodic's jitter is a fraction of the period; the poller's is a time. */
function jitterFraction({ periodMs, jitterMs = 0 }: PollTiming): number {
  return periodMs > 0 ? jitterMs / periodMs : 0;
}

export class PlcPoller implements Runnable {
  readonly name = 'plc-poller';
  private sync: PlcSync;
  private readonly periodic: Periodic;
  private periodMs: number;
  private readonly retryBaseMs: number;
  /** Syncs in a row that could not reach PLC. */
  private failures = 0;

  constructor(options: PlcPollerOptions) {
    this.sync = options.sync;
    this.periodMs = options.periodMs;
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    const onSynced = options.onSynced ?? (() => undefined);
    this.periodic = new Periodic({
      name: this.name,
      clock: options.clock,
      periodMs: options.periodMs,
      jitter: jitterFraction(options),
      ...(options.random ? { random: options.random } : {}),
      run: async () => {
        const result = await this.sync.syncOnce();
        this.failures = result.outcome === 'unreachable' ? this.failures + 1 : 0;
        await onSynced(result);
        return this.backoff();
      },
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

  /** Change the period and jitter (SIGHUP); the next sync is scheduled with the new ones. */
  setTiming(timing: PollTiming): void {
    this.periodMs = timing.periodMs;
    this.periodic.setPeriod(timing.periodMs, jitterFraction(timing));
  }

  /** Sync soon; if a sync is in flight, another one follows it (the source may have changed). */
  trigger(): void {
    this.periodic.trigger();
  }

  /** No more syncs; waits for one in flight. */
  close(): Promise<void> {
    return this.periodic.close();
  }

  /** After a sync that could not reach PLC, the next one comes sooner: retryBaseMs, doubling, at most the period. */
  private backoff(): PeriodicRunResult {
    if (this.failures === 0) return {};
    return { nextRunInMs: Math.min(this.periodMs, this.retryBaseMs * 2 ** Math.min(this.failures - 1, 30)) };
  }
}
