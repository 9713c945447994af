// Loans as the controllers see them: two informer indexes, Loans by lender and by target, so that
// one change touches only the slivers it affects instead of every Loan. Each controller that
// reads them declares them (Reconciler.indexes); the runtime keeps them, whichever controllers run.
import { NotFoundError } from '../../resources/errors.js';
import type { Loan } from '../../schemas/types.js';
import type { Cache, IndexDefinition, ReconcileContext } from '../runtime/types.js';

/** Loans by the sliver that lends (spec.from). */
export const LOANS_BY_LENDER: IndexDefinition<'Loan'> = { kind: 'Loan', name: 'by-lender', keys: (loan) => [loan.spec.from] };
/** Loans by the sliver lent to (spec.to). */
export const LOANS_BY_TARGET: IndexDefinition<'Loan'> = { kind: 'Loan', name: 'by-target', keys: (loan) => [loan.spec.to] };
export const LOAN_INDEXES: readonly IndexDefinition[] = [LOANS_BY_LENDER, LOANS_BY_TARGET];

/** The loans `lender` makes. */
export function loansBy(cache: Cache, lender: string): Loan[] {
  return cache.byIndex('Loan', LOANS_BY_LENDER.name, lender);
}

/** The loans made to `target`. */
export function loansTo(cache: Cache, target: string): Loan[] {
  return cache.byIndex('Loan', LOANS_BY_TARGET.name, target);
}

/** Delete every Loan from or to `sliver`: loans vanish with the slivers they connect (docs/behaviour.md §3). */
export async function deleteLoansOf(sliver: string, context: ReconcileContext): Promise<void> {
  const names = new Set([...loansBy(context.cache, sliver), ...loansTo(context.cache, sliver)].map((loan) => loan.metadata.name));
  for (const name of names) {
    try {
      await context.store.delete('Loan', name, { deletedBy: `the account controller: sliver ${sliver} was deleted` });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}
