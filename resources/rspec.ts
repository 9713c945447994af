// rspec rules (docs/behaviour.md §2 and §3): defaults, loan minimums, Python-2 integer parsing and the
// effective-rspec computation with loans. Pure functions only.
import { LOANABLE_RESOURCES, RSPEC_KEYS, type IntegerRange, type LoanReason, type LoanableResource, type PartialRSpec, type RSpec } from '../schemas/types.js';

export const DEFAULT_RSPEC: Readonly<RSpec> = Object.freeze({
  enabled: 1,
  cpu_min: 0,
  cpu_share: 32,
  net_min: 8,
  net_max: 1_000_000_000,
  net2_min: 8,
  net2_max: 1_000_000_000,
  net_share: 1,
  disk_max: 5_000_000,
});

/** What a lender always keeps of each loanable resource. */
export const LOAN_MINIMUM: Readonly<Record<LoanableResource, number>> = Object.freeze({
  cpu_min: 0,
  cpu_share: 16,
  net_min: 0,
  net_max: 8,
  net2_min: 0,
  net2_max: 8,
  net_share: 1,
});

/** A CPU guarantee applies only from 5 % (50/1000 of a CPU) up. */
export const CPU_GUARANTEE_THRESHOLD = 50;

export function isLoanable(resource: string): resource is LoanableResource {
  return (LOANABLE_RESOURCES as readonly string[]).includes(resource);
}

/** A complete rspec: the given values over the defaults. */
export function fullRSpec(partial: PartialRSpec | undefined): RSpec {
  const result = { ...DEFAULT_RSPEC };
  if (partial) for (const key of RSPEC_KEYS) if (partial[key] !== undefined) result[key] = partial[key];
  return result;
}

// Python's str.strip() whitespace for byte strings.
const PY_WHITESPACE = ' \t\n\r\v\f';
const PY2_INT = new RegExp(`^[${PY_WHITESPACE}]*([+-]?)[${PY_WHITESPACE}]*([0-9]+)[${PY_WHITESPACE}]*$`);

/**
 * Python 2 `int(str)` in base 10: surrounding whitespace, an optional sign that may be followed by
 * whitespace, leading zeros. Returns undefined where Python raised ValueError, and also for values
 * beyond 2^53 that a JavaScript number cannot hold exactly.
 */
export function parsePy2Int(text: string): number | undefined {
  const match = PY2_INT.exec(text);
  if (!match) return undefined;
  const value = Number(match[2]) * (match[1] === '-' ? -1 : 1);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Why `value` is outside the range of `key` (naming both), or undefined when it is inside. */
export function rangeProblem(key: string, value: number, range: IntegerRange): string | undefined {
  if (value >= range.minimum && value <= range.maximum) return undefined;
  return `${key} ${value} is out of range: must be from ${range.minimum} to ${range.maximum}`;
}

/** An rspec from PLC string attributes: each key's parsed value, or its default. */
export function rspecFromAttributes(attributes: Record<string, string>): RSpec {
  const result = { ...DEFAULT_RSPEC };
  for (const key of RSPEC_KEYS) {
    const raw = attributes[key];
    const parsed = raw === undefined ? undefined : parsePy2Int(raw);
    if (parsed !== undefined) result[key] = parsed;
  }
  return result;
}

// ---- loans ----------------------------------------------------------------------------------

export interface LoanInput {
  /** Identifies the loan in the result (a Loan object's name). */
  id: string;
  from: string;
  to: string;
  resource: string;
  amount: number;
  order: number;
}

export interface LoanDecision {
  granted: boolean;
  reason: LoanReason;
  message: string;
}

export interface EffectiveResult {
  effective: Map<string, RSpec>;
  decisions: Map<string, LoanDecision>;
}

/** Loans of one lender in the order they are granted: by `order`, then by id for a stable tie-break. */
export function compareLoans(a: LoanInput, b: LoanInput): number {
  return a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Effective rspecs of all slivers with loans (docs/behaviour.md §3). Every lender's loans are funded only
 * from its own PLC rspec (the residual), in list order; a loan to an unknown target uses nothing;
 * a refused loan does not stop later ones. The result does not depend on the order of lenders.
 */
export function computeEffectiveRSpecs(rspecs: ReadonlyMap<string, PartialRSpec>, loans: readonly LoanInput[]): EffectiveResult {
  const effective = new Map<string, RSpec>();
  for (const [name, rspec] of rspecs) effective.set(name, fullRSpec(rspec));
  const decisions = new Map<string, LoanDecision>();

  const byLender = new Map<string, LoanInput[]>();
  for (const loan of loans) {
    const list = byLender.get(loan.from);
    if (list) list.push(loan);
    else byLender.set(loan.from, [loan]);
  }

  for (const [lender, lenderLoans] of byLender) {
    const lenderEffective = effective.get(lender);
    if (!lenderEffective) {
      for (const loan of lenderLoans) {
        decisions.set(loan.id, { granted: false, reason: 'UnknownLender', message: `lender sliver "${lender}" does not exist` });
      }
      continue;
    }
    const residual = fullRSpec(rspecs.get(lender));
    for (const loan of [...lenderLoans].sort(compareLoans)) {
      const targetEffective = effective.get(loan.to);
      if (!targetEffective) {
        decisions.set(loan.id, { granted: false, reason: 'UnknownTarget', message: `target sliver "${loan.to}" does not exist` });
        continue;
      }
      if (!isLoanable(loan.resource)) {
        decisions.set(loan.id, { granted: false, reason: 'InsufficientResidual', message: `${loan.resource} cannot be lent` });
        continue;
      }
      const available = residual[loan.resource] - LOAN_MINIMUM[loan.resource];
      if (loan.amount > available) {
        decisions.set(loan.id, {
          granted: false,
          reason: 'InsufficientResidual',
          message: `${loan.amount} ${loan.resource} exceeds what "${lender}" can still lend (${Math.max(available, 0)})`,
        });
        continue;
      }
      residual[loan.resource] -= loan.amount;
      lenderEffective[loan.resource] -= loan.amount;
      targetEffective[loan.resource] += loan.amount;
      decisions.set(loan.id, { granted: true, reason: 'Granted', message: `${loan.amount} ${loan.resource} lent to "${loan.to}"` });
    }
  }
  return { effective, decisions };
}

/**
 * SetLoans validation: a list of `[target: string, resource: loanable, amount: integer >= 0]`.
 * Booleans and floats are not integers. Returns the loans, or undefined if anything is off.
 */
export function parseLoanList(value: unknown): Array<[string, LoanableResource, number]> | undefined {
  if (!Array.isArray(value)) return undefined;
  const loans: Array<[string, LoanableResource, number]> = [];
  for (const entry of value) {
    if (!Array.isArray(entry) || entry.length !== 3) return undefined;
    const [target, resource, amount] = entry as unknown[];
    if (typeof target !== 'string' || typeof resource !== 'string' || !isLoanable(resource)) return undefined;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) return undefined;
    loans.push([target, resource, amount]);
  }
  return loans;
}
