// Named filters over change events, for keysFor: which changes a controller acts on. As in
// controller-runtime, a "changed" predicate is true for ADDED and DELETED and for a MODIFIED whose
// old object is unknown; for a MODIFIED it compares the old and the new object. A resync delivers an
// unchanged object, so no "changed" predicate holds for it: combine with `isResync` to act on it.
import { jsonEqual } from '../../resources/equal.js';
import type { AnyObject } from '../../schemas/types.js';
import type { ChangeEvent } from './types.js';

export type Predicate = (event: ChangeEvent) => boolean;

/** The periodic re-delivery of an unchanged object (the safety net for missed changes). */
export const isResync: Predicate = (event) => event.resync;

/** True unless the event is a MODIFIED whose old and new object give equal `select` values. */
export function changedBy(select: (object: AnyObject) => unknown): Predicate {
  return (event) => event.type !== 'MODIFIED' || event.oldObject === undefined || !jsonEqual(select(event.oldObject), select(event.object));
}

/** The value at a dotted path ("status.effectiveRSpec"); undefined where the path ends early. */
function valueAt(object: AnyObject, path: readonly string[]): unknown {
  let value: unknown = object;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** The field at a dotted path from the object's root changed ("metadata.deletionTimestamp"). */
export function fieldChanged(path: string): Predicate {
  const steps = path.split('.');
  return changedBy((object) => valueAt(object, steps));
}

/** A field of the spec changed ("rspec", "rspec.cpu_share"). */
export function specFieldChanged(path: string): Predicate {
  return fieldChanged(`spec.${path}`);
}

/** metadata.generation moved: the spec changed (status and metadata writes leave it alone). */
export const generationChanged: Predicate = fieldChanged('metadata.generation');

/** metadata.labels changed (a missing map and an empty one are the same). */
export const labelsChanged: Predicate = changedBy((object) => object.metadata.labels ?? {});

/** True when any of `predicates` is. */
export function anyOf(...predicates: Predicate[]): Predicate {
  return (event) => predicates.some((predicate) => predicate(event));
}
