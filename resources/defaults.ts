// Admission defaults: a hand-written Sliver or Delegate needs only what a user decides (name, type,
// instantiation, keys, rspec); the bookkeeping fields PLC fills in (timestamp, attributes,
// delegations, an empty init script) get their neutral values here, before validation, on create
// and update, as Kubernetes defaults fields at admission. Pure.
import type { AnyObject, Kind } from '../schemas/types.js';

/** Spec fields and their defaults, by kind: values that mean "nothing set". */
const SPEC_DEFAULTS: Partial<Record<Kind, Record<string, () => unknown>>> = {
  Sliver: { keys: () => [], initscript: () => '', rspec: () => ({}), delegations: () => [], timestamp: () => 0, attributes: () => ({}) },
  Delegate: { keys: () => [], timestamp: () => 0 },
};

/** The object's spec with every missing (or null) defaulted field filled in; other input is left for validation to judge. */
export function withSpecDefaults<T extends AnyObject>(kind: Kind, object: T): T {
  const defaults = SPEC_DEFAULTS[kind];
  const spec: unknown = object.spec;
  if (!defaults || typeof spec !== 'object' || spec === null || Array.isArray(spec)) return object;
  const filled: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
  for (const [field, value] of Object.entries(defaults)) if (filled[field] === undefined || filled[field] === null) filled[field] = value();
  return { ...object, spec: filled };
}
