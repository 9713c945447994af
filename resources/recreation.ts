// Which objects come back after a delete: PLC's are created again at its next sync while PLC lists
// them, the fleet's while the fleet store holds them. A delete of one is allowed (an operator may
// want a fresh start) but warned about, as Kubernetes warns with a `Warning` header. Pure.
import { MANAGED_BY_LABEL, MANAGED_BY_PLC, type AnyObject } from '../schemas/types.js';
import { isFleetOwned } from './fleet.js';

/** The warning a delete of `object` deserves, or undefined when nothing will recreate it. */
export function recreationWarning(object: AnyObject): string | undefined {
  const what = `${object.kind.toLowerCase()} "${object.metadata.name}"`;
  if (object.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_PLC) {
    return `${what} is managed by PLC: the next PLC sync creates it again (with the same uid) while PLC lists it; remove it at PLC to keep it gone`;
  }
  if (isFleetOwned(object)) return `${what} is managed by the fleet: it is created again from the fleet store; delete it there to keep it gone`;
  return undefined;
}
