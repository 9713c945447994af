// Loans as the controllers see them: an index of Loans by lender and by target, kept from the
// informer's events (by the rspec controller's keysFor, which sees every Loan change), so that one
// change touches only the slivers it affects instead of every Loan.
import { NotFoundError } from '../../resources/errors.js';
import type { WatchEvent } from '../../adapters/store/contract.js';
import type { Loan, LoanSpec } from '../../schemas/types.js';
import type { ReconcileContext } from '../runtime/types.js';

interface IndexedLoan {
  spec: LoanSpec;
  resourceVersion: string | undefined;
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** Loan names by lender and by target, and the last spec seen of each. */
export class LoanIndex {
  private readonly loans = new Map<string, IndexedLoan>();
  private readonly byLender = new Map<string, Set<string>>();
  private readonly byTarget = new Map<string, Set<string>>();

  /**
   * Apply one Loan event. Returns the specs before and after, or undefined when the event does not
   * change any spec (a status write), unless it is a resync of an unchanged object.
   */
  apply(event: WatchEvent): { before?: LoanSpec; after?: LoanSpec } | undefined {
    const loan = event.object as Loan;
    const name = loan.metadata.name;
    const previous = this.loans.get(name);
    const after = event.type === 'DELETED' ? undefined : loan.spec;
    if (previous && after && previous.resourceVersion === loan.metadata.resourceVersion) return { before: previous.spec, after };
    if (previous && after && sameSpec(previous.spec, after)) {
      previous.resourceVersion = loan.metadata.resourceVersion;
      return undefined;
    }
    if (previous) {
      removeFrom(this.byLender, previous.spec.from, name);
      removeFrom(this.byTarget, previous.spec.to, name);
      this.loans.delete(name);
    }
    if (after) {
      this.loans.set(name, { spec: after, resourceVersion: loan.metadata.resourceVersion });
      addTo(this.byLender, after.from, name);
      addTo(this.byTarget, after.to, name);
    }
    return { ...(previous ? { before: previous.spec } : {}), ...(after ? { after } : {}) };
  }

  /** Names of the loans `lender` makes. */
  lentBy(lender: string): readonly string[] {
    return [...(this.byLender.get(lender) ?? [])];
  }

  /** Names of the loans made to `target`. */
  lentTo(target: string): readonly string[] {
    return [...(this.byTarget.get(target) ?? [])];
  }

  /** The last spec seen of a loan. */
  spec(name: string): LoanSpec | undefined {
    return this.loans.get(name)?.spec;
  }
}

function sameSpec(a: LoanSpec, b: LoanSpec): boolean {
  return a.from === b.from && a.to === b.to && a.resource === b.resource && a.amount === b.amount && a.order === b.order;
}

/** Delete every Loan from or to `sliver`: loans vanish with the slivers they connect (docs/behaviour.md §3). */
export async function deleteLoansOf(sliver: string, loans: LoanIndex, context: ReconcileContext): Promise<void> {
  for (const name of new Set([...loans.lentBy(sliver), ...loans.lentTo(sliver)])) {
    const loan = context.cache.get('Loan', name);
    if (!loan || (loan.spec.from !== sliver && loan.spec.to !== sliver)) continue;
    try {
      await context.store.delete('Loan', name);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}
