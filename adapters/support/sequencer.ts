// Running async tasks one at a time: a Sequencer for one line of work (event writes, node-wide
// account creates), a KeyedSequencer for one line per key (per account, per lender, per root).
// A task starts when the one before it has settled; a failed task fails only its own caller.

/** Tasks run one at a time, in call order. */
export class Sequencer {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private readonly idleListeners: Array<() => void> = [];

  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const result = this.tail.then(task);
    const settle = () => {
      this.queued -= 1;
      if (this.queued === 0) for (const listener of this.idleListeners) listener();
    };
    this.tail = result.then(settle, settle);
    return result;
  }

  /** Tasks queued or running. */
  pending(): number {
    return this.queued;
  }

  /** Resolves when every task run so far has settled (never rejects). */
  settled(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  /** Called each time the last queued task settles. */
  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }
}

/** One Sequencer per key: tasks of one key run one at a time, tasks of different keys concurrently. */
export class KeyedSequencer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // The key is forgotten once its last task settles, so the map holds only busy keys.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running. */
  busyKeys(): number {
    return this.tails.size;
  }
}
