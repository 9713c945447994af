// The imperative verbs: start, stop and recreate a sliver (by changing its user-owned spec.run, as
// the XML-RPC Start/Stop/ReCreate do), patch (merge or JSON), label and annotate. Each is one write
// on the server's usual path, so authorization, validation and field ownership are the same as apply's.
import { yaml } from '../resources/lazy-modules.js';
import { InvalidError, SlvError, UsageError } from '../resources/errors.js';
import type { AnyObject, Kind, RunSpec, Sliver } from '../schemas/types.js';
import type { Context } from './context.js';
import { qualifiedName } from '../resources/columns.js';
import { waitUntil } from './wait.js';

/** A counter bump reads, then writes with the read resourceVersion: a concurrent write means read again. */
const RACE_RETRIES = 5;

async function retryOnConflict<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof SlvError && error.reason === 'Conflict') || attempt >= RACE_RETRIES) throw error;
    }
  }
}

// ---- start, stop, recreate ----------------------------------------------------------------------

export type RunVerb = 'start' | 'stop' | 'recreate';

interface RunChange {
  change(run: RunSpec): RunSpec;
  /** The status that shows the controller acted on the change. */
  done(sliver: Sliver, changed: RunSpec): boolean;
  requested: string;
  finished: string;
}

const RUN_CHANGES: Record<RunVerb, RunChange> = {
  // Bumping `start` makes Start act even when the desired state already was Running.
  start: {
    change: (run) => ({ ...run, state: 'Running', start: (run.start ?? 0) + 1 }),
    done: (s, run) => (s.status?.startsHandled ?? 0) >= run.start! && s.status?.running === true,
    requested: 'start requested',
    finished: 'started',
  },
  stop: {
    change: (run) => ({ ...run, state: 'Stopped' }),
    done: (s) => s.status?.runState === 'Stopped' && s.status.running === false,
    requested: 'stop requested',
    finished: 'stopped',
  },
  recreate: {
    change: (run) => ({ ...run, recreate: (run.recreate ?? 0) + 1 }),
    done: (s, run) => (s.status?.recreated ?? 0) >= run.recreate!,
    requested: 'recreate requested',
    finished: 'recreated',
  },
};

export async function changeRun(context: Context, verb: RunVerb, names: string[], options: { wait: boolean; timeoutMs: number }): Promise<void> {
  const { change, done, requested, finished } = RUN_CHANGES[verb];
  for (const name of names) {
    const run = await retryOnConflict(async () => {
      const sliver = await context.client.get('Sliver', name);
      const next = change({ ...sliver.spec.run });
      await context.client.mergePatch('Sliver', name, { metadata: { resourceVersion: sliver.metadata.resourceVersion }, spec: { run: next } });
      return next;
    });
    if (!options.wait) {
      context.out.write(`${qualifiedName('Sliver', name)} ${requested}\n`);
      continue;
    }
    await waitUntil(context.client, 'Sliver', name, (o) => o !== undefined && done(o as Sliver, run), options.timeoutMs, `${verb} to be done`);
    context.out.write(`${qualifiedName('Sliver', name)} ${finished}\n`);
  }
}

// ---- patch --------------------------------------------------------------------------------------

export type PatchType = 'merge' | 'json';

export function parsePatchType(value: string): PatchType {
  if (value === 'merge' || value === 'json') return value;
  throw new UsageError(`invalid --type "${value}": expected merge or json (strategic merge patches are Kubernetes-only)`);
}

/** The patch text as JSON or YAML: an object for merge, a list of operations for json. */
function parsePatch(text: string, type: PatchType): unknown {
  let patch: unknown;
  try {
    patch = yaml().parse(text);
  } catch (error) {
    throw new InvalidError(`the patch is not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (type === 'json' && !Array.isArray(patch))
    throw new InvalidError('a JSON patch (--type json) must be a list of operations, e.g. [{"op": "replace", "path": "/spec/run/state", "value": "Stopped"}]');
  if (type === 'merge' && (typeof patch !== 'object' || patch === null || Array.isArray(patch)))
    throw new InvalidError('a merge patch must be an object, e.g. {"spec": {"run": {"state": "Stopped"}}}');
  return patch;
}

function changed(before: AnyObject, after: AnyObject): string {
  return before.metadata.resourceVersion === after.metadata.resourceVersion ? 'patched (no change)' : 'patched';
}

export async function patch(context: Context, kind: Kind, name: string, text: string, type: PatchType): Promise<void> {
  const body = parsePatch(text, type);
  const before = await context.client.get(kind, name);
  const after = type === 'json' ? await context.client.jsonPatch(kind, name, body as unknown[]) : await context.client.mergePatch(kind, name, body);
  context.out.write(`${qualifiedName(kind, name)} ${changed(before, after)}\n`);
}

// ---- label, annotate ----------------------------------------------------------------------------

export type MetadataMap = 'labels' | 'annotations';

/** `key=value` sets, `key-` removes. */
export function parseMapChanges(args: readonly string[], what: MetadataMap): Record<string, string | null> {
  if (!args.length) throw new UsageError(`no ${what} given: expected KEY=VALUE to set or KEY- to remove`);
  const changes: Record<string, string | null> = {};
  for (const arg of args) {
    const equals = arg.indexOf('=');
    const key = equals < 0 ? (arg.endsWith('-') ? arg.slice(0, -1) : '') : arg.slice(0, equals);
    if (!key || /[\s=]/.test(key)) throw new UsageError(`invalid ${what === 'labels' ? 'label' : 'annotation'} "${arg}": expected KEY=VALUE or KEY-`);
    changes[key] = equals < 0 ? null : arg.slice(equals + 1);
  }
  return changes;
}

/** Set or remove labels or annotations; changing an existing value needs `overwrite`, as in kubectl. */
export async function changeMetadata(context: Context, kind: Kind, name: string, what: MetadataMap, changes: Record<string, string | null>, overwrite: boolean): Promise<void> {
  const before = await retryOnConflict(async () => {
    const current = await context.client.get(kind, name);
    const existing = current.metadata[what] ?? {};
    const clash = Object.entries(changes).filter(([key, value]) => value !== null && key in existing && existing[key] !== value);
    if (clash.length && !overwrite) {
      const [key] = clash[0]!;
      throw new UsageError(`${qualifiedName(kind, name)}: ${key} already has the value "${existing[key]}"; use --overwrite to change it`);
    }
    await context.client.mergePatch(kind, name, { metadata: { resourceVersion: current.metadata.resourceVersion, [what]: changes } });
    return current;
  });
  const had = before.metadata[what] ?? {};
  const unchanged = Object.entries(changes).every(([key, value]) => (value === null ? !(key in had) : had[key] === value));
  context.out.write(`${qualifiedName(kind, name)} ${unchanged ? 'not ' : ''}${what === 'labels' ? 'labeled' : 'annotated'}\n`);
}
