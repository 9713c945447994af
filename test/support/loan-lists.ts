// Watches a lender's Loans and records its list as it stood after every store revision, so a test
// or bench can check that every stored list was exactly one of the lists some client asked for.
import type { ListResult, Store } from '../../adapters/store/contract.js';
import type { Loan, LoanSpec } from '../../schemas/types.js';

export type LoanTriple = [target: string, resource: string, amount: number];

/** SetLoans lists alice sends, from empty to three loans over two targets: concurrent callers race these. */
export const ALICE_LOAN_LISTS: LoanTriple[][] = [
  [],
  [['bob', 'cpu_share', 1]],
  [
    ['bob', 'cpu_share', 2],
    ['carol', 'net_max', 10],
  ],
  [
    ['carol', 'cpu_min', 3],
    ['bob', 'net_share', 0],
    ['carol', 'cpu_share', 4],
  ],
];

export interface LenderListRecorder {
  /** Stop watching; the lists seen after each revision that changed the lender's Loans. */
  stop(): LoanTriple[][];
}

function listOf(specs: Map<string, LoanSpec>): LoanTriple[] {
  return [...specs.values()].sort((a, b) => a.order - b.order).map((spec) => [spec.to, spec.resource, spec.amount]);
}

/** Start recording from `listed`, the store's list of every Loan (its items and revision). */
export function recordLenderLists(store: Store, lender: string, listed: ListResult<Loan>): LenderListRecorder {
  const specs = new Map(listed.items.filter((loan) => loan.spec.from === lender).map((loan) => [loan.metadata.name, loan.spec]));
  const lists: LoanTriple[][] = [];
  let pending: number | undefined;
  const close = () => {
    if (pending !== undefined) lists.push(listOf(specs));
    pending = undefined;
  };
  const watch = store.watch(
    { kind: 'Loan', sinceRevision: listed.revision },
    {
      onEvent(event) {
        if (pending !== undefined && event.revision !== pending) close();
        const loan = event.object as Loan;
        const ours = loan.spec.from === lender;
        if (event.type === 'DELETED' || !ours) {
          if (!specs.delete(loan.metadata.name)) return;
        } else {
          const before = specs.get(loan.metadata.name);
          if (before && JSON.stringify(before) === JSON.stringify(loan.spec)) return;
          specs.set(loan.metadata.name, loan.spec);
        }
        pending = event.revision;
      },
    },
  );
  return {
    stop() {
      watch.stop();
      close();
      return lists;
    },
  };
}

/** The recorded lists that are none of the allowed ones (as JSON, for a readable assertion). */
export function listsNotRequested(seen: readonly LoanTriple[][], allowed: readonly LoanTriple[][]): string[] {
  const ok = new Set(allowed.map((list) => JSON.stringify(list)));
  return seen.map((list) => JSON.stringify(list)).filter((list) => !ok.has(list));
}
