// The objects the benches store: slivers as the PLC source stores them and loans among them.
import { ACCOUNT_FINALIZER, API_VERSION, type Loan, type Sliver } from '../schemas/types.js';
import type { LoanInput } from '../resources/rspec.js';

const LOAN_RESOURCES = ['cpu_share', 'net_max', 'net_share', 'cpu_min'] as const;

export function sliverName(i: number): string {
  return `s${i}`;
}

export function sliverObject(i: number): Sliver {
  return {
    apiVersion: API_VERSION,
    kind: 'Sliver',
    // As the PLC source stores a new sliver: with the account finalizer already in place.
    metadata: { name: sliverName(i), finalizers: [ACCOUNT_FINALIZER] },
    spec: {
      type: 'sliver.VServer',
      instantiation: 'plc-instantiated',
      keys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${i} user${i}@example.org`],
      initscript: '',
      rspec: { cpu_share: 32 + (i % 7) * 10, net_max: 10_000_000 },
      delegations: [],
      timestamp: 1_000,
      attributes: {},
    },
  };
}

/** Loans: each lender lends small amounts to the next few slivers, `perLender` loans each. */
export function loanInputs(slivers: number, perLender: number): LoanInput[] {
  const loans: LoanInput[] = [];
  for (let i = 0; i < slivers; i++) {
    for (let order = 0; order < perLender; order++) {
      loans.push({
        id: `${sliverName(i)}.${order}`,
        from: sliverName(i),
        to: sliverName((i + order + 1) % slivers),
        resource: LOAN_RESOURCES[order % LOAN_RESOURCES.length] as string,
        amount: 1 + ((i + order) % 5),
        order,
      });
    }
  }
  return loans;
}

export function loanObject(loan: LoanInput): Loan {
  return {
    apiVersion: API_VERSION,
    kind: 'Loan',
    metadata: { name: loan.id },
    spec: { from: loan.from, to: loan.to, resource: loan.resource as Loan['spec']['resource'], amount: loan.amount, order: loan.order },
  };
}
