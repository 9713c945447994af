// One lifecycle for every long-lived part (informer, queue, manager, event recorder, pollers, the
// daemon): `start()` once, `close()` once, through 'new' → 'starting' → 'running' → 'closing' →
// 'closed'. Using a part in a state that does not allow it is an IllegalStateError (a bug), and
// close() is safe to call twice or after a failed start. Disposables closes many parts in reverse.
import type { Logger } from 'pino';
import { IllegalStateError, type LifecycleState } from '../../resources/errors.js';

export type { LifecycleState };

/** What every long-lived part offers. */
export interface LongLived {
  readonly state: LifecycleState;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The state of one part, and the rules for moving it. */
export class Lifecycle {
  private current: LifecycleState = 'new';
  private closing: Promise<void> | undefined;

  /** `part` names the part in error messages ("the work queue account"). */
  constructor(private readonly part: string) {}

  get state(): LifecycleState {
    return this.current;
  }

  /** True in any of `states`. */
  is(...states: LifecycleState[]): boolean {
    return states.includes(this.current);
  }

  /** Throw IllegalStateError unless the part is in one of `allowed` (`action` says what was refused). */
  require(action: string, ...allowed: LifecycleState[]): void {
    if (!allowed.includes(this.current)) throw new IllegalStateError(this.part, this.current, action);
  }

  /**
   * new → starting → running around `body` (which runs synchronously up to its first await). A
   * failed start leaves the part 'starting': close() then releases what it did acquire.
   */
  async start(body: () => Promise<void> | void = () => undefined): Promise<void> {
    this.require('start', 'new');
    this.current = 'starting';
    await body();
    // A close() during the start wins: the part stays closing/closed.
    if (this.current === 'starting') this.current = 'running';
  }

  /** → closing → closed around `body`; runs once, whatever the state, and every call gets the same promise. */
  close(body: () => Promise<void> | void = () => undefined): Promise<void> {
    this.closing ??= this.runClose(body);
    return this.closing;
  }

  private async runClose(body: () => Promise<void> | void): Promise<void> {
    this.current = 'closing';
    try {
      await body();
    } finally {
      this.current = 'closed';
    }
  }
}

/**
 * Parts in the order they started, closed in reverse: each part is registered as soon as it is
 * up, so a failed start closes exactly what exists. A close that fails is logged and the rest
 * still close; the first failure is rethrown at the end.
 */
export class Disposables {
  private readonly parts: Array<{ name: string; close: () => Promise<void> | void }> = [];

  constructor(private readonly log: Logger) {}

  add(name: string, close: () => Promise<void> | void): void {
    this.parts.push({ name, close });
  }

  async closeAll(): Promise<void> {
    let failed: unknown;
    for (const { name, close } of this.parts.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failed ??= error;
        this.log.error({ err: error }, `closing the ${name} failed`);
      }
    }
    if (failed !== undefined) throw failed;
  }
}
