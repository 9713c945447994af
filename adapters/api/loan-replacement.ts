// Replacing a lender's whole loan list: the one server-side routine behind XML-RPC SetLoans and the
// REST subresource `slivers/NAME/loans` (which `slvctl loans set` calls). Replacements of one
// lender are serialized by a per-lender lock shared by both APIs (keyed by the store they write),
// and each is one store transaction planned by resources/loans.ts, so every stored list is exactly
// one of the requested ones.
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../resources/errors.js';
import { loansOfLender, planLoanReplacement, type LoanReplacement } from '../../resources/loans.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import type { Store } from '../store/contract.js';
import type { Loan } from '../../schemas/types.js';
import { retryOnConflict } from '../support/retry.js';
import { KeyedSequencer } from '../support/sequencer.js';

/**
 * Attempts when a writer outside the lock changed the lender's Loans between the read and the
 * transaction (a controller writing a Loan's status, deleting the loans of a deleted sliver).
 */
const MAX_ATTEMPTS = 10;

const lenderSequencers = new WeakMap<Store, KeyedSequencer>();

function sequencerOf(store: Store): KeyedSequencer {
  let sequencer = lenderSequencers.get(store);
  if (!sequencer) lenderSequencers.set(store, (sequencer = new KeyedSequencer()));
  return sequencer;
}

function lostRace(error: unknown): boolean {
  return error instanceof ConflictError || error instanceof AlreadyExistsError || error instanceof NotFoundError;
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
  return sequencerOf(store).run(wanted.lender, () =>
    retryOnConflict(
      async () => {
        const operations = planLoanReplacement((await store.list('Loan')).items, wanted, { fieldManager: options.fieldManager, now: kubernetesTimestamp(Date.now()) });
        const results = await store.transact(operations, { dryRun: options.dryRun ?? false });
        const loans = results.flatMap((result, i) => (operations[i]!.type === 'delete' ? [] : [result as Loan]));
        const removed = operations.flatMap((operation) => (operation.type === 'delete' ? [operation.name] : []));
        return { loans: loansOfLender(loans, wanted.lender), removed, revision: store.revision() };
      },
      { attempts: MAX_ATTEMPTS, retryable: lostRace },
    ),
  );
}
