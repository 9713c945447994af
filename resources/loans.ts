// A lender's Loans as one list (docs/behaviour.md §3): whose a Loan name is, and how replacing a
// lender's whole list (XML-RPC SetLoans, `slvctl loans set`, the REST `slivers/NAME/loans`
// subresource) becomes one store transaction. Pure.
import { recordUpdate } from './apply.js';
import { InvalidError } from './errors.js';
import { lenderOfLoanName, loanName } from './loan-names.js';
import { compareLoans, parseLoanList } from './rspec.js';
import type { WriteOperation } from './store-rules.js';
import { API_VERSION, type Loan, type LoanSpec, type LoanableResource } from '../schemas/types.js';

/** One loan as SetLoans lists it. */
export type LoanEntry = [target: string, resource: LoanableResource, amount: number];

/** The whole list a lender wants. */
export interface LoanReplacement {
  lender: string;
  loans: readonly LoanEntry[];
}

/** The lender's Loans in the order they are granted. */
export function loansOfLender(loans: readonly Loan[], lender: string): Loan[] {
  return loans.filter((loan) => loan.spec.from === lender).sort((a, b) => compareLoans({ id: a.metadata.name, ...a.spec }, { id: b.metadata.name, ...b.spec }));
}

export interface ReplacementOptions {
  /** Recorded in managedFields of what the replacement writes. */
  fieldManager: string;
  /** RFC 3339, for managedFields. */
  now: string;
}

/**
 * The one transaction that replaces a lender's loans: the i-th wanted loan is Loan `<lender>.<i>`,
 * updated in place when it exists (an unchanged one writes nothing), created otherwise; every other
 * Loan from the lender, or named in its namespace by another sliver, is deleted. Updates and
 * deletes carry the resourceVersion read, so a change made meanwhile fails the whole transaction
 * (409) instead of mixing two lists; the caller reads again and retries.
 */
export function planLoanReplacement(existing: readonly Loan[], wanted: LoanReplacement, options: ReplacementOptions): WriteOperation[] {
  const { lender } = wanted;
  const current = new Map(existing.filter((loan) => loan.spec.from === lender || lenderOfLoanName(loan.metadata.name) === lender).map((loan) => [loan.metadata.name, loan]));
  const writes: WriteOperation[] = wanted.loans.map(([to, resource, amount], order) => {
    const spec: LoanSpec = { from: lender, to, resource, amount, order };
    const name = loanName(lender, order);
    const before = current.get(name);
    current.delete(name);
    const after: Loan = before ? { ...before, spec } : { apiVersion: API_VERSION, kind: 'Loan', metadata: { name }, spec };
    return { type: before ? 'update' : 'create', object: recordUpdate(before, after, options.fieldManager, options.now) };
  });
  const deletes: WriteOperation[] = [...current.values()].map((loan) => ({ type: 'delete', kind: 'Loan', name: loan.metadata.name, resourceVersion: loan.metadata.resourceVersion! }));
  return [...deletes, ...writes];
}

// ---- the REST subresource slivers/NAME/loans ---------------------------------------------------

export const SLIVER_LOANS_KIND = 'SliverLoans';

/** The body of `GET`/`PUT …/slivers/NAME/loans`: a sliver's loan list, in order. */
export interface SliverLoans {
  apiVersion: typeof API_VERSION;
  kind: typeof SLIVER_LOANS_KIND;
  metadata: { name: string; resourceVersion?: string };
  spec: { loans: Array<{ to: string; resource: LoanableResource; amount: number }> };
  /** In answers: the Loan objects holding the list, and those a replacement deleted. */
  status?: { loanNames: string[]; removed?: string[] };
}

export function sliverLoansOf(lender: string, loans: readonly Loan[], revision: number, removed?: string[]): SliverLoans {
  return {
    apiVersion: API_VERSION,
    kind: SLIVER_LOANS_KIND,
    metadata: { name: lender, resourceVersion: String(revision) },
    spec: { loans: loans.map((loan) => ({ to: loan.spec.to, resource: loan.spec.resource, amount: loan.spec.amount })) },
    status: { loanNames: loans.map((loan) => loan.metadata.name), ...(removed ? { removed } : {}) },
  };
}

/** A `SliverLoans` body for sliver `lender`; InvalidError naming the first bad field. */
export function parseSliverLoans(value: unknown, lender: string): LoanReplacement {
  const body = value as Partial<SliverLoans> | null;
  const invalid = (field: string, message: string): never => {
    throw new InvalidError(`${SLIVER_LOANS_KIND} "${lender}" is invalid: ${field}: ${message}`, [{ field, message }]);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) invalid('(root)', `must be a ${SLIVER_LOANS_KIND} object`);
  if (body!.apiVersion !== API_VERSION) invalid('apiVersion', `must be ${API_VERSION}`);
  if (body!.kind !== SLIVER_LOANS_KIND) invalid('kind', `must be ${SLIVER_LOANS_KIND}`);
  if (body!.metadata?.name !== undefined && body!.metadata.name !== lender) invalid('metadata.name', `must be "${lender}", the sliver the path names`);
  const loans: unknown = body!.spec?.loans;
  if (!Array.isArray(loans)) invalid('spec.loans', 'must be a list of {to, resource, amount}');
  const entries = (loans as unknown[]).map((loan, i) => {
    const { to, resource, amount } = (typeof loan === 'object' && loan !== null ? loan : {}) as Record<string, unknown>;
    const parsed = parseLoanList([[to, resource, amount]]);
    if (!parsed) invalid(`spec.loans[${i}]`, 'must be {to: sliver name, resource: a loanable resource, amount: an integer >= 0}');
    return parsed![0]!;
  });
  return { lender, loans: entries };
}
