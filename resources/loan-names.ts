// Whose a Loan name is: a lender's loans are named `<lender>.<suffix>`, so no sliver can take the
// names another's SetLoans writes (admission in store-rules.ts keeps the rule). Pure.

/** The name of a lender's loan at a position of its list. */
export function loanName(lender: string, position: number): string {
  return `${lender}.${position}`;
}

/**
 * The lender a Loan name is reserved to: what comes before the last "." (a PLC slice name may hold
 * dots, so the suffix holds none and every name has one lender).
 */
export function lenderOfLoanName(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(0, dot) : undefined;
}

/** Why a Loan from `lender` cannot be named `name`, or undefined when it can. */
export function loanNameProblem(name: string, lender: string): string | undefined {
  if (lenderOfLoanName(name) === lender) return undefined;
  return `a loan from "${lender}" must be named "${lender}.<suffix>" (a suffix without dots), e.g. "${loanName(lender, 0)}" (loan names are reserved to their lender, spec.from)`;
}
