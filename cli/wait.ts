// Waiting on the API by watch (never by polling): `wait --for`, and `delete` waiting for finalizers.
import { SlvError, UsageError } from '../resources/errors.js';
import type { AnyObject, Kind } from '../schemas/types.js';
import type { ApiClient, Selectors } from '../adapters/api/client/client.js';
import { condition } from '../resources/columns.js';

/** `500ms`, `30s`, `2m`, `1h`, or plain seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`invalid duration "${text}": expected e.g. 500ms, 30s, 2m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unit;
}

export type Predicate = (object: AnyObject | undefined) => boolean;

/** `--for=delete`, `--for=condition=Ready` (status True) or `--for=condition=Ready=False`. */
export function parseFor(text: string): { predicate: Predicate; description: string } {
  if (text === 'delete') return { predicate: (o) => o === undefined, description: 'deletion' };
  const match = /^condition=([A-Za-z][A-Za-z0-9]*)(?:=(True|False|Unknown))?$/.exec(text);
  if (!match) throw new UsageError(`invalid --for=${text}: expected delete, condition=TYPE or condition=TYPE=True|False|Unknown`);
  const [, type, status = 'True'] = match;
  return {
    predicate: (o) => condition((o?.status as { conditions?: [] } | undefined)?.conditions, type!)?.status === status,
    description: `condition ${type}=${status}`,
  };
}

/** Resolves with the object (undefined if deleted) once `predicate` holds; a timeout is an SlvError. */
export async function waitUntil(client: ApiClient, kind: Kind, name: string, predicate: Predicate, timeoutMs: number, description: string): Promise<AnyObject | undefined> {
  const what = `${description} on ${kind.toLowerCase()}/${name}`;
  return watchUntil(client, kind, { fieldSelector: `metadata.name=${name}` }, (objects) => (predicate(objects.get(name)) ? { value: objects.get(name) } : undefined), timeoutMs, what);
}

/**
 * Lists the objects of `kind` that `selectors` select, then watches them until `settled` (given
 * them all by name, after every change) answers; a timeout is an SlvError naming `what`, so is a
 * watch slvd ended.
 */
export async function watchUntil<T>(
  client: ApiClient,
  kind: Kind,
  selectors: Selectors,
  settled: (objects: ReadonlyMap<string, AnyObject>) => { value: T } | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const listed = await client.list(kind, selectors);
  const objects = new Map(listed.items.map((o) => [o.metadata.name, o as AnyObject]));
  const first = settled(objects);
  if (first) return first.value;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watch.stop();
      reject(new SlvError('Timeout', `timed out after ${timeoutMs / 1000}s waiting for ${what}`));
    }, timeoutMs);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      watch.stop();
      settle();
    };
    const watch = client.watch(kind, { ...selectors, resourceVersion: listed.metadata.resourceVersion }, (event) => {
      if (event.type === 'DELETED') objects.delete(event.object.metadata.name);
      else objects.set(event.object.metadata.name, event.object);
      const done = settled(objects);
      if (done) finish(() => resolve(done.value));
    });
    watch.done.then(
      () => finish(() => reject(new SlvError('ServiceUnavailable', `slvd ended the watch while waiting for ${what}`))),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
