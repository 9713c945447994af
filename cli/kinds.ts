// Resource type arguments as kubectl users type them: `sliver`, `slivers`, `sl`, `Sliver`.
import { UsageError } from '../resources/errors.js';
import { KINDS, SHORT_NAMES, type Kind } from '../schemas/types.js';

export function resolveKind(argument: string): Kind {
  const wanted = argument.toLowerCase();
  const kind = KINDS.find((k) => k.toLowerCase() === wanted || SHORT_NAMES[k].includes(wanted));
  if (kind) return kind;
  const choices = KINDS.map((k) => `${k.toLowerCase()} (${SHORT_NAMES[k][0]!})`).join(', ');
  throw new UsageError(`unknown resource type "${argument}": expected one of ${choices}`);
}

/** `sliver/alice`: how objects are named in output (`-o name`, apply results). */
export function qualifiedName(kind: Kind, name: string): string {
  return `${kind.toLowerCase()}/${name}`;
}
