// The rspec/loan controller (docs/behaviour.md §3): each Sliver's effective rspec (its PLC rspec plus and
// minus granted loans, lowered by the bwmon duty's daily caps, raised by the lease_or_shared CPU
// guarantee) in status.effectiveRSpec, and each Loan's decision in its status. The
// account controller applies the effective rspec to the node.
//
// Key = sliver name. A sliver's effective rspec depends only on its own loans and on the loans made
// to it, and each of those loans on its lender's whole loan list (granted in order from the
// lender's PLC rspec) and on which targets exist. So reconcile(S) decides the loans of S and of
// every lender to S (decideLoans), given which of their targets exist. keysFor uses the loan indexes to queue
// exactly the slivers whose neighbourhood a change touches, so one loan change among 10,000
// slivers costs a handful of small reconciles, not a relist.
import { withDailyCaps } from '../../resources/daily-bandwidth.js';
import { withLeaseGuarantee } from '../../resources/reservations.js';
import { decideLoans, fullRSpec, type LoanDecision, type LoanInput } from '../../resources/rspec.js';
import { jsonEqual } from '../../resources/equal.js';
import type { Loan, LoanSpec, LoanableResource, Sliver } from '../../schemas/types.js';
import { changedBy } from '../runtime/predicates.js';
import type { Cache, ChangeEvent, ReconcileContext, Reconciler } from '../runtime/types.js';
import { LOAN_INDEXES, loansBy, loansTo } from './loans.js';
import { writeStatus } from './status.js';

/** A sliver counts for loans while it exists and is not being deleted. */
function liveSliver(cache: Cache, name: string): Sliver | undefined {
  const sliver = cache.get('Sliver', name);
  return sliver && sliver.metadata.deletionTimestamp === undefined ? sliver : undefined;
}

/** What a sliver contributes to loans: its rspec while live, nothing once it is being deleted. */
const loanInputChanged = changedBy((object) => {
  const sliver = object as Sliver;
  return sliver.metadata.deletionTimestamp === undefined ? sliver.spec.rspec : null;
});

/** What the duties put in a sliver's status to change its own effective rspec: bwmon's caps, the lease's CPU guarantee. */
const dutyAdjustmentsChanged = changedBy((object) => {
  const status = (object as Sliver).status;
  return [status?.dailyBandwidth?.netMaxCap, status?.dailyBandwidth?.net2MaxCap, status?.leaseCpuMin];
});

/** A Loan as the loan rules take it (a literal: spreading the spec cost more than deciding the loan). */
function loanInput(loan: Loan): LoanInput {
  const { spec } = loan;
  return { id: loan.metadata.name, from: spec.from, to: spec.to, resource: spec.resource, amount: spec.amount, order: spec.order };
}

function sameSpec(a: LoanSpec, b: LoanSpec): boolean {
  return a.from === b.from && a.to === b.to && a.resource === b.resource && a.amount === b.amount && a.order === b.order;
}

export function createRSpecController(): Reconciler {
  /** S, the targets of S's loans, and every lender to S with all its targets. */
  function affectedBy(cache: Cache, sliver: string): string[] {
    const keys = new Set([sliver, ...targetsOf(cache, sliver)]);
    for (const loan of loansTo(cache, sliver)) {
      const lender = loan.spec.from;
      keys.add(lender);
      for (const target of targetsOf(cache, lender)) keys.add(target);
    }
    return [...keys];
  }

  function targetsOf(cache: Cache, lender: string): string[] {
    return loansBy(cache, lender).map((loan) => loan.spec.to);
  }

  function keysForLoan(event: ChangeEvent, cache: Cache): string[] {
    // The first list: every sliver queues itself, and a lender that is no sliver has its loans decided only here.
    if (event.initialList) return [(event.object as Loan).spec.from];
    const before = (event.oldObject as Loan | undefined)?.spec;
    const after = event.type === 'DELETED' ? undefined : (event.object as Loan).spec;
    // A status write (the decision this controller recorded) changes no neighbourhood.
    if (!event.resync && before && after && sameSpec(before, after)) return [];
    const keys = new Set<string>();
    for (const lender of new Set([before?.from, after?.from])) {
      if (lender === undefined) continue;
      keys.add(lender);
      for (const target of targetsOf(cache, lender)) keys.add(target);
    }
    if (before) keys.add(before.to);
    return [...keys];
  }

  function keysForSliver(event: ChangeEvent, cache: Cache): string[] {
    const { name } = event.object.metadata;
    if (event.resync || event.initialList) return [name];
    // Other status and unrelated spec changes leave every effective rspec as it was.
    if (loanInputChanged(event)) return affectedBy(cache, name);
    return dutyAdjustmentsChanged(event) ? [name] : [];
  }

  // The context is not destructured: its `log` is made on first use (a child logger per reconcile), and most reconciles log nothing.
  async function reconcile(name: string, context: ReconcileContext): Promise<void> {
    const { cache, store } = context;
    // S's effective rspec: its PLC rspec less what it lends, plus what its lenders grant it. A
    // lender's grants depend on its own rspec and on which of its targets exist, not on their rspecs.
    const exists = (sliverName: string): boolean => liveSliver(cache, sliverName) !== undefined;
    const sliver = liveSliver(cache, name);
    const loaned = sliver && fullRSpec(sliver.spec.rspec);
    const decisions = new Map<string, LoanDecision>();
    const ownLoans = loansBy(cache, name);
    for (const lender of new Set([name, ...loansTo(cache, name).map((loan) => loan.spec.from)])) {
      const inputs = (lender === name ? ownLoans : loansBy(cache, lender)).map(loanInput);
      for (const { loan, decision } of decideLoans(lender, liveSliver(cache, lender)?.spec.rspec, inputs, exists)) {
        if (lender === name) decisions.set(loan.id, decision);
        if (!loaned || !decision.granted) continue;
        const resource = loan.resource as LoanableResource;
        if (loan.from === name) loaned[resource] -= loan.amount;
        if (loan.to === name) loaned[resource] += loan.amount;
      }
    }

    const writes: Array<Promise<unknown>> = [];
    for (const loan of ownLoans) {
      const decision = decisions.get(loan.metadata.name);
      if (!decision) continue;
      const generation = loan.metadata.generation;
      const before = loan.status;
      // One line per decision a user would notice: a new or changed loan, or a grant that flipped.
      if (before === undefined || before.observedGeneration !== generation || before.granted !== decision.granted || before.reason !== decision.reason) {
        const fields = { loan: loan.metadata.name, from: loan.spec.from, to: loan.spec.to, resource: loan.spec.resource, amount: loan.spec.amount, reason: decision.reason };
        context.log.info(fields, decision.granted ? `loan ${loan.metadata.name} granted` : `loan ${loan.metadata.name} not granted: ${decision.message}`);
      } else if (before.message === decision.message) {
        continue; // the status already says all of it: writeStatus would find nothing to write
      }
      writes.push(writeStatus<'Loan'>(store, loan, (status) => ({ ...status, ...decision, observedGeneration: generation })));
    }
    // Loans are decided on the rspecs without the duties' adjustments: those change no loan.
    const effectiveRSpec = loaned && withLeaseGuarantee(withDailyCaps(loaned, sliver?.status?.dailyBandwidth), sliver?.status?.leaseCpuMin);
    if (sliver && effectiveRSpec && !jsonEqual(sliver.status?.effectiveRSpec, effectiveRSpec)) {
      writes.push(writeStatus<'Sliver'>(store, sliver, (status) => ({ ...status, effectiveRSpec })));
    }
    await Promise.all(writes);
  }

  return {
    name: 'rspec',
    watches: ['Sliver', 'Loan'],
    indexes: LOAN_INDEXES,
    keysFor: (event, cache) => (event.object.kind === 'Loan' ? keysForLoan(event, cache) : keysForSliver(event, cache)),
    reconcile,
  };
}
