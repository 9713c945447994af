// Resource type arguments as kubectl users type them: `sliver`, `slivers`, `sl`, `Sliver`.
import { UsageError } from '../resources/errors.js';
import { CATEGORY_ALL, KINDS, SHORT_NAMES, type Kind } from '../schemas/types.js';

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

/** What `get` was asked for: kinds in the order given, each with the names asked for (none: all). */
export interface Target {
  kind: Kind;
  names: string[];
}

/** `all` means the kinds of the `all` category, as in kubectl. */
function kindsOf(argument: string): Kind[] {
  if (argument.toLowerCase() === 'all') return [...CATEGORY_ALL];
  return argument.split(',').map((part) => resolveKind(part.trim()));
}

/**
 * `get` arguments as kubectl takes them: `sl`, `sl alice bob`, `sl,dg`, `all`, or
 * `sliver/alice dg/pl_monitor` (every argument TYPE/NAME).
 */
export function parseTargets(args: readonly string[]): Target[] {
  const [first, ...names] = args;
  if (first === undefined) throw new UsageError('a resource type is required, e.g. slvctl get slivers');
  const targets: Target[] = [];
  const add = (kind: Kind, name?: string) => {
    let target = targets.find((t) => t.kind === kind);
    if (!target) targets.push((target = { kind, names: [] }));
    if (name !== undefined && !target.names.includes(name)) target.names.push(name);
  };
  if (first.includes('/')) {
    for (const arg of args) {
      const slash = arg.indexOf('/');
      if (slash <= 0 || slash === arg.length - 1) throw new UsageError(`"${arg}": when one argument is TYPE/NAME, all must be (e.g. sliver/alice dg/bob)`);
      add(resolveKind(arg.slice(0, slash)), arg.slice(slash + 1));
    }
    return targets;
  }
  const kinds = kindsOf(first);
  if (names.length && kinds.length > 1) throw new UsageError(`names cannot follow several resource types ("${first}"): use TYPE/NAME, e.g. sliver/alice dg/bob`);
  for (const kind of kinds) add(kind);
  for (const name of names) add(kinds[0]!, name);
  return targets;
}
