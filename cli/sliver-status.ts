// The STATUS column of `slvctl get sl`: in one word, why a sliver is not fully fine, computed from
// what the controllers wrote (conditions, deletion, expiry). The words are listed in docs/cli.md. Pure.
import type { Condition, Sliver } from '../schemas/types.js';

/** Ready=False/Unknown reasons shown under another word: the table speaks of the sliver, not the condition. */
const READY_REASON_WORDS: Record<string, string> = {
  ResourcesNotApplied: 'LimitsNotApplied',
  WaitingForEffectiveRSpec: 'Pending',
};

/**
 * Of a Ready sliver, the causes that still deserve a word, by condition type and reason. A sliver
 * whose limits this node cannot enforce (no quota support, no bandwidth limiter) is usable, but
 * not held to its rspec.
 */
function degradation(condition: Condition): string | undefined {
  if (condition.status !== 'False') return undefined;
  if (condition.type === 'ResourcesApplied' && condition.reason === 'Unsupported') return 'LimitsNotEnforced';
  if (condition.type.startsWith('Init') || condition.reason === 'InitFailed') return 'InitFailed';
  return undefined;
}

/**
 * The first that applies: `Expired` (past spec.expires: being deleted), `Terminating` (being
 * deleted), `Pending` (no Ready condition yet), the Ready condition's reason when it is not True
 * (`Stopped`, `Disabled`, `NotRunning`, `NameTaken`, `NotInstantiated`, `NodeError`, …, with
 * `ResourcesNotApplied` shown as `LimitsNotApplied`), then for a Ready sliver `InitFailed` or
 * `LimitsNotEnforced`, else `Running`.
 */
export function sliverStatusWord(sliver: Sliver, nowMs: number): string {
  const { expires } = sliver.spec;
  if (expires !== undefined && expires !== null && expires * 1000 < nowMs) return 'Expired';
  if (sliver.metadata.deletionTimestamp !== undefined) return 'Terminating';
  const conditions = sliver.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) return 'Pending';
  if (ready.status !== 'True') return READY_REASON_WORDS[ready.reason] ?? (ready.reason || 'NotReady');
  const causes = conditions.map(degradation).filter((word): word is string => word !== undefined);
  // An init script that failed matters more to the sliver's user than an unenforced limit.
  return causes.includes('InitFailed') ? 'InitFailed' : (causes[0] ?? 'Running');
}
