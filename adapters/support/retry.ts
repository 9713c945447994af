// Read-modify-write against the store's optimistic concurrency: a write made from a stale read
// fails with a ConflictError, and the cure is to read again and redo the change.
import { ConflictError } from '../../resources/errors.js';

export interface RetryOnConflictOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Whether a failure is a lost race worth another attempt (default: a ConflictError). */
  retryable?: (error: unknown) => boolean | Promise<boolean>;
}

function isConflict(error: unknown): boolean {
  return error instanceof ConflictError;
}

/**
 * Run `attempt(n)` (n = 1, 2, …) until it returns, fails in a way that is not retryable, or the
 * attempts are used up (then its last error is thrown). Each attempt must read afresh what it
 * writes from; the first may start from a cached copy.
 */
export async function retryOnConflict<T>(attempt: (n: number) => Promise<T>, options: RetryOnConflictOptions): Promise<T> {
  const retryable = options.retryable ?? isConflict;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= options.attempts || !(await retryable(error))) throw error;
    }
  }
}
