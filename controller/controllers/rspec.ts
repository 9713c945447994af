// The rspec/loan controller (docs/behaviour.md §3): each Sliver's effective rspec (its PLC rspec plus and
// minus granted loans, lowered by the bwmon duty's daily caps, raised by the lease_or_shared CPU
// guarantee) in status.effectiveRSpec, and each Loan's decision in its status. The
// account controller applies the effective rspec to the node.
//
// Key = sliver name. A sliver's effective rspec depends only on its own loans and on the loans made
// to it, and each of those loans on its lender's whole loan list (granted in order from the
// lender's PLC rspec) and on which targets exist. So reconcile(S) runs the pure computation on that
// neighbourhood: S, every lender to S, and all their targets. keysFor uses the loan indexes to queue
// exactly the slivers whose neighbourhood a change touches, so one loan change among 10,000
// slivers costs a handful of small reconciles, not a relist.
import { withDailyCaps } from '../../resources/daily-bandwidth.js';
import { withLeaseGuarantee } from '../../resources/reservations.js';
import { computeEffectiveRSpecs, type LoanInput } from '../../resources/rspec.js';
import { jsonEqual } from '../../resources/equal.js';
import type { Loan, LoanSpec, PartialRSpec, Sliver } from '../../schemas/types.js';
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
    if (event.resync) return [name];
    // Other status and unrelated spec changes leave every effective rspec as it was.
    if (loanInputChanged(event)) return affectedBy(cache, name);
    return dutyAdjustmentsChanged(event) ? [name] : [];
  }

  async function reconcile(name: string, { cache, store }: ReconcileContext): Promise<void> {
    const lenders = new Set([name, ...loansTo(cache, name).map((loan) => loan.spec.from)]);
    const rspecs = new Map<string, PartialRSpec>();
    const loans: LoanInput[] = [];
    const ownLoans: Loan[] = [];
    const include = (sliverName: string): void => {
      if (rspecs.has(sliverName)) return;
      const sliver = liveSliver(cache, sliverName);
      if (sliver) rspecs.set(sliverName, sliver.spec.rspec);
    };
    for (const lender of lenders) {
      include(lender);
      for (const loan of loansBy(cache, lender)) {
        loans.push({ id: loan.metadata.name, ...loan.spec });
        include(loan.spec.to);
        if (lender === name) ownLoans.push(loan);
      }
    }
    const { effective, decisions } = computeEffectiveRSpecs(rspecs, loans);

    const writes: Array<Promise<unknown>> = [];
    for (const loan of ownLoans) {
      const decision = decisions.get(loan.metadata.name);
      if (!decision) continue;
      const generation = loan.metadata.generation;
      writes.push(writeStatus<'Loan'>(store, loan, (status) => ({ ...status, ...decision, observedGeneration: generation })));
    }
    const sliver = liveSliver(cache, name);
    const loaned = effective.get(name);
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
