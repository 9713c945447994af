// The expiry controller (docs/behaviour.md §4): a sliver is deleted once `expires < now` (strictly; equal
// is kept), and its loans vanish with it. Each sliver is looked at again exactly when it expires
// (requeueAfter), not by polling.
import { NotFoundError } from '../../resources/errors.js';
import { retryOnConflict } from '../../adapters/support/retry.js';
import type { Sliver } from '../../schemas/types.js';
import type { ReconcileResult, Reconciler } from '../runtime/types.js';
import { deleteLoansOf, LOAN_INDEXES } from './loans.js';

/** The longest single wait: timers cannot wait longer than 2^31−1 ms, and a day is plenty. */
export const MAX_EXPIRY_WAIT_MS = 24 * 60 * 60 * 1000;
/** A conflict means the cache was behind the store (a status write, say): re-read and judge again. */
const CONFLICT_RETRIES = 3;

export function createExpiryController(): Reconciler {
  return {
    name: 'expiry',
    watches: ['Sliver'],
    indexes: LOAN_INDEXES,
    // Only slivers that can expire: most have no `expires`, and their many status writes need no look.
    keysFor: (event) => (event.type !== 'DELETED' && (event.object as Sliver).spec.expires != null ? [event.object.metadata.name] : []),
    async reconcile(name, context) {
      const verdict = await retryOnConflict(
        async (attempt): Promise<ReconcileResult | 'expired' | undefined> => {
          const sliver = attempt === 1 ? context.cache.get('Sliver', name) : await context.store.tryGet('Sliver', name);
          const expires = sliver?.spec.expires;
          if (!sliver || expires === undefined || expires === null) return undefined;
          // expires is in whole seconds: the sliver is expired from the first millisecond after it.
          const remainingMs = expires * 1000 - context.clock.now();
          if (remainingMs >= 0) return { requeueAfter: Math.min(remainingMs + 1, MAX_EXPIRY_WAIT_MS) };
          if (sliver.metadata.deletionTimestamp !== undefined) return 'expired';
          try {
            // Only the version judged expired: if PLC moved `expires` meanwhile, judge again.
            await context.store.delete('Sliver', name, { resourceVersion: sliver.metadata.resourceVersion, deletedBy: 'the expiry controller: spec.expires has passed' });
            context.events.normal(sliver, 'Expired', `deleted: it expired at ${new Date(expires * 1000).toISOString()}`);
          } catch (error) {
            if (!(error instanceof NotFoundError)) throw error;
          }
          return 'expired';
        },
        { attempts: CONFLICT_RETRIES + 1 },
      );
      if (verdict !== 'expired') return verdict;
      await deleteLoansOf(name, context);
    },
  };
}
