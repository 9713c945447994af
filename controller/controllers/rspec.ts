// The rspec/loan controller (docs/behaviour.md §3): each Sliver's effective rspec (its PLC rspec plus and
// minus granted loans) in status.effectiveRSpec, and each Loan's decision in its status. The
// account controller applies the effective rspec to the node.
//
// Key = sliver name. A sliver's effective rspec depends only on its own loans and on the loans made
// to it, and each of those loans on its lender's whole loan list (granted in order from the
// lender's PLC rspec) and on which targets exist. So reconcile(S) runs the pure computation on that
// neighbourhood: S, every lender to S, and all their targets. keysFor uses the loan index to queue
// exactly the slivers whose neighbourhood a change touches, so one loan change among 10,000
// slivers costs a handful of small reconciles, not a relist.
import { computeEffectiveRSpecs, type LoanInput } from '../../resources/rspec.js';
import { jsonEqual } from '../../resources/equal.js';
import type { WatchEvent } from '../../adapters/store/contract.js';
import type { Loan, PartialRSpec, Sliver } from '../../schemas/types.js';
import type { Cache, ReconcileContext, Reconciler } from '../runtime/types.js';
import type { LoanIndex } from './loans.js';
import { writeStatus } from './status.js';

/** A sliver counts for loans while it exists and is not being deleted. */
function liveSliver(cache: Cache, name: string): Sliver | undefined {
  const sliver = cache.get('Sliver', name);
  return sliver && sliver.metadata.deletionTimestamp === undefined ? sliver : undefined;
}

interface SeenSliver {
  resourceVersion: string | undefined;
  /** The rspec while the sliver is live; null once it is being deleted. */
  fingerprint: string | null;
}

export interface RSpecControllerOptions {
  /** Kept current by this controller; read by the others. */
  loans: LoanIndex;
}

export function createRSpecController({ loans: index }: RSpecControllerOptions): Reconciler {
  const seen = new Map<string, SeenSliver>();

  /** S, the targets of S's loans, and every lender to S with all its targets. */
  function affectedBy(sliver: string): string[] {
    const keys = new Set([sliver, ...targetsOf(sliver)]);
    for (const loan of index.lentTo(sliver)) {
      const lender = index.spec(loan)?.from;
      if (lender === undefined) continue;
      keys.add(lender);
      for (const target of targetsOf(lender)) keys.add(target);
    }
    return [...keys];
  }

  function targetsOf(lender: string): string[] {
    return index.lentBy(lender).flatMap((loan) => index.spec(loan)?.to ?? []);
  }

  function keysForLoan(event: WatchEvent): string[] {
    const change = index.apply(event);
    if (!change) return [];
    const keys = new Set<string>();
    for (const lender of new Set([change.before?.from, change.after?.from])) {
      if (lender === undefined) continue;
      keys.add(lender);
      for (const target of targetsOf(lender)) keys.add(target);
    }
    if (change.before) keys.add(change.before.to);
    return [...keys];
  }

  function keysForSliver(event: WatchEvent): string[] {
    const sliver = event.object as Sliver;
    const { name, resourceVersion } = sliver.metadata;
    const live = event.type !== 'DELETED' && sliver.metadata.deletionTimestamp === undefined;
    const fingerprint = live ? JSON.stringify(sliver.spec.rspec) : null;
    const previous = seen.get(name);
    if (event.type === 'DELETED') seen.delete(name);
    else seen.set(name, { resourceVersion, fingerprint });
    if (previous && event.type === 'MODIFIED') {
      if (previous.resourceVersion === resourceVersion) return [name]; // periodic resync
      if (previous.fingerprint === fingerprint) return []; // status or unrelated spec change
    }
    return affectedBy(name);
  }

  async function reconcile(name: string, { cache, store }: ReconcileContext): Promise<void> {
    const lenders = new Set([name]);
    for (const loan of index.lentTo(name)) {
      const lender = index.spec(loan)?.from;
      if (lender !== undefined) lenders.add(lender);
    }
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
      for (const loanName of index.lentBy(lender)) {
        const loan = cache.get('Loan', loanName);
        if (!loan || loan.spec.from !== lender) continue;
        loans.push({ id: loanName, ...loan.spec });
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
    const effectiveRSpec = effective.get(name);
    if (sliver && effectiveRSpec && !jsonEqual(sliver.status?.effectiveRSpec, effectiveRSpec)) {
      writes.push(writeStatus<'Sliver'>(store, sliver, (status) => ({ ...status, effectiveRSpec })));
    }
    await Promise.all(writes);
  }

  return {
    name: 'rspec',
    watches: ['Sliver', 'Loan'],
    keysFor: (event) => (event.object.kind === 'Loan' ? keysForLoan(event) : keysForSliver(event)),
    reconcile,
  };
}
