// Clocks for the runtime: the system clock for the daemon, a FakeClock that tests advance by hand
// so that backoff, requeueAfter, resync and expiry can be checked without waiting.
import type { Clock } from './types.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending retry or resync must not keep a finished process alive.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface FakeTimer {
  id: number;
  due: number;
  callback: () => void;
}

/** A clock that moves only when `advance` is called; timers fire in due order, ties in creation order. */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, due: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Pending timers (how many callbacks a future `advance` may fire). */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Due times of pending timers, earliest first (ms since the epoch). */
  pendingDueTimes(): number[] {
    return this.timers.map((t) => t.due).sort((a, b) => a - b);
  }

  /** Move time forward by `ms`, firing every timer that falls due, each at its own due time. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const next = this.earliestDue(target);
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.due;
      next.callback();
    }
    this.time = target;
  }

  private earliestDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) if (t.due <= limit && (!best || t.due < best.due || (t.due === best.due && t.id < best.id))) best = t;
    return best;
  }
}
