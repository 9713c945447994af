// Replacing a lender's whole loan list: the one server-side routine behind XML-RPC SetLoans and the
// REST subresource `slivers/NAME/loans` (which `slvctl loans set` calls). Replacements of one
// lender are serialized by a per-lender lock shared by both APIs (keyed by the store they write),
// and each is one store transaction planned by resources/loans.ts, so every stored list is exactly
// one of the requested ones.
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../resources/errors.js';
import { loansOfLender, planLoanReplacement, type LoanReplacement } from '../../resources/loans.js';
import { timestampNow } from '../../resources/store-rules.js';
import type { Store } from '../store/contract.js';
import type { Loan } from '../../schemas/types.js';

/**
 * Attempts when a writer outside the lock changed the lender's Loans between the read and the
 * transaction (a controller writing a Loan's status, deleting the loans of a deleted sliver).
 */
const MAX_ATTEMPTS = 10;

const lenderLocks = new WeakMap<Store, Map<string, Promise<unknown>>>();

async function withLenderLock<T>(store: Store, lender: string, body: () => Promise<T>): Promise<T> {
  let locks = lenderLocks.get(store);
  if (!locks) lenderLocks.set(store, (locks = new Map()));
  const previous = locks.get(lender) ?? Promise.resolve();
  const current = previous.then(body, body);
  const settled = current.catch(() => undefined);
  locks.set(lender, settled);
  try {
    return await current;
  } finally {
    if (locks.get(lender) === settled) locks.delete(lender);
  }
}

export interface LoanReplacementResult {
  /** The lender's Loans after the replacement, in order. */
  loans: Loan[];
  /** Names of the Loans it deleted. */
  removed: string[];
  revision: number;
}

/** Replace the lender's loans (dryRun: plan and validate only); the store's typed error if refused. */
export function replaceLoans(store: Store, wanted: LoanReplacement, options: { fieldManager: string; dryRun?: boolean }): Promise<LoanReplacementResult> {
  return withLenderLock(store, wanted.lender, async () => {
    for (let attempt = 1; ; attempt++) {
      const operations = planLoanReplacement((await store.list('Loan')).items, wanted, { fieldManager: options.fieldManager, now: timestampNow() });
      try {
        const results = await store.transact(operations, { dryRun: options.dryRun ?? false });
        const loans = results.flatMap((result, i) => (operations[i]!.type === 'delete' ? [] : [result as Loan]));
        const removed = operations.flatMap((operation) => (operation.type === 'delete' ? [operation.name] : []));
        return { loans: loansOfLender(loans, wanted.lender), removed, revision: store.revision() };
      } catch (error) {
        const raced = error instanceof ConflictError || error instanceof AlreadyExistsError || error instanceof NotFoundError;
        if (!raced || attempt === MAX_ATTEMPTS) throw error;
      }
    }
  });
}
