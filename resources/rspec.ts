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

const orDefault = (value: number | undefined, fallback: number): number => (value === undefined ? fallback : value);

/**
 * A complete rspec: the given values over the defaults. Spelled out key by key: the copy of the
 * frozen defaults and the loop over RSPEC_KEYS took ~1 µs a call, and a restart makes 70,000.
 */
export function fullRSpec(partial: PartialRSpec | undefined): RSpec {
  const defaults = DEFAULT_RSPEC;
  const values = partial ?? {};
  return {
    enabled: orDefault(values.enabled, defaults.enabled),
    cpu_min: orDefault(values.cpu_min, defaults.cpu_min),
    cpu_share: orDefault(values.cpu_share, defaults.cpu_share),
    net_min: orDefault(values.net_min, defaults.net_min),
    net_max: orDefault(values.net_max, defaults.net_max),
    net2_min: orDefault(values.net2_min, defaults.net2_min),
    net2_max: orDefault(values.net2_max, defaults.net2_max),
    net_share: orDefault(values.net_share, defaults.net_share),
    disk_max: orDefault(values.disk_max, defaults.disk_max),
  };
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
 * One lender's loans decided, in the order they are granted (compareLoans): each is funded only
 * from the lender's own PLC rspec (the residual), in list order; a loan to a target that does not
 * exist uses nothing; a refused loan does not stop later ones. `lenderRSpec` undefined: the lender
 * does not exist. What a lender grants depends only on its own rspec and on which targets exist.
 */
export function decideLoans(
  lender: string,
  lenderRSpec: PartialRSpec | undefined,
  loans: readonly LoanInput[],
  targetExists: (name: string) => boolean,
): Array<{ loan: LoanInput; decision: LoanDecision }> {
  if (!lenderRSpec) return loans.map((loan) => ({ loan, decision: { granted: false, reason: 'UnknownLender', message: `lender sliver "${lender}" does not exist` } }));
  const residual = fullRSpec(lenderRSpec);
  return [...loans].sort(compareLoans).map((loan) => {
    if (!targetExists(loan.to)) return { loan, decision: { granted: false, reason: 'UnknownTarget', message: `target sliver "${loan.to}" does not exist` } };
    if (!isLoanable(loan.resource)) return { loan, decision: { granted: false, reason: 'InsufficientResidual', message: `${loan.resource} cannot be lent` } };
    const available = residual[loan.resource] - LOAN_MINIMUM[loan.resource];
    if (loan.amount > available) {
      return {
        loan,
        decision: { granted: false, reason: 'InsufficientResidual', message: `${loan.amount} ${loan.resource} exceeds what "${lender}" can still lend (${Math.max(available, 0)})` },
      };
    }
    residual[loan.resource] -= loan.amount;
    return { loan, decision: { granted: true, reason: 'Granted', message: `${loan.amount} ${loan.resource} lent to "${loan.to}"` } };
  });
}

/**
 * Effective rspecs of all slivers with loans (docs/behaviour.md §3): each sliver's PLC rspec, less
 * what it lends and plus what it is lent, as decideLoans grants. The result does not depend on the
 * order of lenders.
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
    for (const { loan, decision } of decideLoans(lender, rspecs.get(lender), lenderLoans, (name) => effective.has(name))) {
      decisions.set(loan.id, decision);
      if (!decision.granted) continue;
      const resource = loan.resource as LoanableResource;
      effective.get(lender)![resource] -= loan.amount;
      effective.get(loan.to)![resource] += loan.amount;
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
