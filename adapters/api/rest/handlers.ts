// The REST verbs on the resource kinds: get, list, watch, create, update, patch (JSON patch, merge
// patch, server-side apply), delete and the status subresource, each authorized by resources/authz.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyConfiguration, applyJsonPatch, mergePatch, recordUpdate, withKubernetesManagedFields } from '../../../resources/apply.js';
import { kubernetesTable } from '../../../resources/columns.js';
import { authorize, authorizeAttempt, authorizeSliverOperation, mayRead, ROOT_UID, sliversConsulted, type AccessVerb, type Caller } from '../../../resources/authz.js';
import { BadRequestError, ConflictError, AlreadyExistsError, InvalidError, NotFoundError, SlvError } from '../../../resources/errors.js';
import type { LogChunk, NodeAdapter } from '../../node/contract.js';
import { loansOfLender, parseSliverLoans, sliverLoansOf } from '../../../resources/loans.js';
import { replaceLoans } from '../loan-replacement.js';
import type { Store, WatchEvent } from '../../store/contract.js';
import { API_VERSION, type AnyObject, type Kind, type Sliver } from '../../../schemas/types.js';
import { kindOf } from '../../../resources/validation.js';
import { readBoundedBody } from '../../support/body.js';
import { retryOnConflict } from '../../support/retry.js';
import { addWarning, mediaType, parseBody, sendJson, statusOf } from './http.js';
import { recreationWarning } from '../../../resources/recreation.js';
import { CONTENT_TYPES, dryRunOf, filterOf, flagOf, includeObjectOf, matchesFilter, revisionOf, wantsTable, type ResourceRoute } from '../routes.js';

/** What kubectl patch sends without --type. */
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
/** The patches every kind takes besides apply. */
const PATCH_TYPES = [CONTENT_TYPES.jsonPatch, CONTENT_TYPES.mergePatch];
/** How often a patch or apply re-reads and retries when a concurrent write won the race. */
const MAX_WRITE_ATTEMPTS = 5;
/** How often `log?follow=1` looks for more output. */
export const LOG_FOLLOW_INTERVAL_MS = 500;
/** How often a watch that asked for bookmarks (`allowWatchBookmarks`) gets one, as Kubernetes does about once a minute. */
export const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000;

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  route: ResourceRoute;
  query: URLSearchParams;
  caller: Caller;
}

export class ResourceApi {
  /** Open watch and log-follow streams, ended when the server closes. */
  readonly watches = new Set<ServerResponse>();

  constructor(
    private readonly store: Store,
    /** The node whose init script output `slivers/NAME/log` reads; the fleet API has none. */
    private readonly node: NodeAdapter | undefined,
    private readonly maxBodyBytes: number,
    private readonly bookmarkIntervalMs = DEFAULT_BOOKMARK_INTERVAL_MS,
  ) {}

  async handle(context: RequestContext): Promise<void> {
    const { req, route, query } = context;
    const method = req.method ?? 'GET';
    if (route.name === undefined) {
      if (method === 'GET') return flagOf(query, 'watch') ? this.watch(context) : this.list(context);
      if (method === 'POST') return this.create(context);
    } else if (route.subresource === 'loans') {
      if (method === 'GET' || method === 'PUT') return this.loans(context, method);
    } else if (route.subresource === 'log') {
      if (method === 'GET') return this.log(context);
    } else if (route.subresource === 'status') {
      if (method === 'GET') return this.get(context);
      if (method === 'PUT') return this.replace(context, 'updateStatus');
      if (method === 'PATCH') return this.patch(context, 'updateStatus');
    } else {
      if (method === 'GET') return this.get(context);
      if (method === 'PUT') return this.replace(context, 'update');
      if (method === 'PATCH') return this.patch(context, 'update');
      if (method === 'DELETE') return this.remove(context);
    }
    throw new SlvError('MethodNotAllowed', `${method} is not supported on ${req.url ?? ''}`);
  }

  // ---- authorization ------------------------------------------------------------------------

  private async sliverLookup(objects: Array<AnyObject | undefined>): Promise<(name: string) => Sliver | undefined> {
    const names = new Set(objects.flatMap((o) => (o ? sliversConsulted(o) : [])));
    const found = new Map<string, Sliver>();
    for (const name of names) {
      const sliver = await this.store.tryGet('Sliver', name);
      if (sliver) found.set(name, sliver);
    }
    return (name) => found.get(name);
  }

  private async authorize(caller: Caller, verb: AccessVerb, kind: Kind, current?: AnyObject, desired?: AnyObject): Promise<void> {
    if (caller.uid === ROOT_UID) return;
    authorize({ caller, verb, kind, ...(current ? { current } : {}), ...(desired ? { desired } : {}) }, await this.sliverLookup([current, desired]));
  }

  /** Before merging the caller's input into `object`: is the caller someone who may write to it at all? */
  private async authorizeAttempt(caller: Caller, verb: 'update' | 'updateStatus' | 'create', object: AnyObject): Promise<void> {
    if (caller.uid === ROOT_UID) return;
    authorizeAttempt(caller, verb, object, await this.sliverLookup([object]));
  }

  /** Field manager of a plain write: `?fieldManager=`, else the caller's account. */
  private manager(context: RequestContext): string {
    return context.query.get('fieldManager') || (context.caller.account ?? `uid-${context.caller.uid}`);
  }

  // ---- bodies -------------------------------------------------------------------------------

  /** The body, if its type is `allowed`; else 415 naming what the request could have been (`accepted`, as Kubernetes words it). */
  private async body(context: RequestContext, allowed: readonly string[], accepted = allowed): Promise<unknown> {
    const type = mediaType(context.req);
    if (!allowed.includes(type)) {
      const hint =
        type === STRATEGIC_MERGE_PATCH
          ? "a strategic merge patch needs the merge keys only Kubernetes' built-in types have: use kubectl patch --type merge or --type json"
          : `not ${JSON.stringify(type)}`;
      throw new SlvError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')} (${hint})`);
    }
    const value = parseBody(await readBoundedBody(context.req, this.maxBodyBytes), type);
    if (value === undefined) throw new BadRequestError('request body is empty');
    return value;
  }

  /** A body that must be an object of the route's kind, named as the path says (if it names one). */
  private async objectBody(context: RequestContext, allowed: readonly string[]): Promise<AnyObject> {
    const object = await this.body(context, allowed);
    return checkIdentity(context.route, object);
  }

  // ---- answers ------------------------------------------------------------------------------

  private sendObject(context: RequestContext, code: number, object: AnyObject | undefined): void {
    sendJson(context.res, code, object === undefined ? undefined : present(context, [object], object.metadata.resourceVersion, false));
  }

  // ---- verbs --------------------------------------------------------------------------------

  private async get(context: RequestContext): Promise<void> {
    const { route, caller } = context;
    const object = await this.store.get(route.kind, route.name!);
    await this.authorize(caller, 'read', route.kind, object);
    this.sendObject(context, 200, object);
  }

  private async list(context: RequestContext): Promise<void> {
    const { res, route, query, caller } = context;
    const filter = filterOf(query);
    const { items, revision } = await this.store.list(route.kind);
    const readable = await this.readFilter(caller);
    sendJson(
      res,
      200,
      present(
        context,
        items.filter((o) => matchesFilter(filter, o) && readable(o)),
        String(revision),
        true,
      ),
    );
  }

  /** For lists: which objects the caller may see (all for root; otherwise by the stored slivers). */
  private async readFilter(caller: Caller): Promise<(object: AnyObject) => boolean> {
    if (caller.uid === ROOT_UID) return () => true;
    const slivers = new Map((await this.store.list('Sliver')).items.map((s) => [s.metadata.name, s]));
    return (object) => mayRead(caller, object, (name) => slivers.get(name));
  }

  /**
   * Newline-delimited JSON events `{type, object}` from `?resourceVersion=` (or from now) until the
   * client leaves; each object as `present` makes it (a one-row Table for kubectl get -w). With
   * `allowWatchBookmarks`, a BOOKMARK now and then names the revision delivered so far.
   */
  private async watch(context: RequestContext): Promise<void> {
    const { res, route, query, caller } = context;
    const filter = filterOf(query);
    const since = revisionOf(query);
    const bookmarks = flagOf(query, 'allowWatchBookmarks');
    let delivered = since ?? this.store.revision();
    let queue = Promise.resolve();
    // Never throws: a line that cannot be written ends the stream, and the client re-watches.
    const send = (line: unknown) => {
      try {
        if (!res.writableEnded) res.write(`${JSON.stringify(line)}\n`);
      } catch {
        res.destroy();
      }
    };
    const deliver = async (event: WatchEvent) => {
      // Every event counts as delivered, the ones this client does not see too: a bookmark says nothing up to it is missing.
      delivered = event.revision;
      if (!matchesFilter(filter, event.object)) return;
      if (caller.uid !== ROOT_UID && !mayRead(caller, event.object, await this.sliverLookup([event.object]))) return;
      send({ type: event.type, object: present(context, [event.object], event.object.metadata.resourceVersion, false) });
    };
    // Subscribing throws (410 Gone, ...) before anything is sent, so the error is a normal response.
    const watch = this.store.watch(
      { kind: route.kind, ...(since === undefined ? {} : { sinceRevision: since }) },
      {
        onEvent: (event) => {
          queue = queue.then(() => deliver(event)).catch((error: unknown) => send({ type: 'ERROR', object: statusOf(error) }));
        },
        onError: (error) => {
          queue = queue.then(() => {
            send({ type: 'ERROR', object: statusOf(error) });
            res.end();
          });
        },
      },
    );
    // Queued behind the events, so a bookmark never names a revision whose events are still to come.
    const bookmarker = bookmarks
      ? setInterval(() => {
          queue = queue.then(() => send({ type: 'BOOKMARK', object: { apiVersion: API_VERSION, kind: route.kind, metadata: { resourceVersion: String(delivered) } } }));
        }, this.bookmarkIntervalMs)
      : undefined;
    res.on('close', () => {
      clearInterval(bookmarker);
      watch.stop();
      this.watches.delete(res);
    });
    this.watches.add(res);
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES.json, 'Cache-Control': 'no-cache' });
    res.flushHeaders();
  }

  private async create(context: RequestContext): Promise<void> {
    const { route, query, caller } = context;
    const input = await this.objectBody(context, [CONTENT_TYPES.json, CONTENT_TYPES.yaml]);
    // Status is the controllers' to write: a client cannot create an object with a status of its choosing.
    const { status: _ignored, ...withoutStatus } = input;
    const desired = recordUpdate(undefined, withoutStatus as AnyObject, this.manager(context), new Date().toISOString());
    await this.authorize(caller, 'create', route.kind, undefined, desired);
    this.sendObject(context, 201, await this.store.create(desired, { dryRun: dryRunOf(query) }));
  }

  private async replace(context: RequestContext, verb: 'update' | 'updateStatus'): Promise<void> {
    const { route, query, caller } = context;
    const input = await this.objectBody(context, [CONTENT_TYPES.json, CONTENT_TYPES.yaml]);
    const current = await this.store.get(route.kind, route.name!);
    await this.authorizeAttempt(caller, verb, current);
    const dryRun = dryRunOf(query);
    if (verb === 'updateStatus') {
      await this.authorize(caller, verb, route.kind, current, input);
      this.sendObject(context, 200, await this.store.updateStatus(input, { dryRun }));
      return;
    }
    const desired = recordUpdate(current, input, this.manager(context), new Date().toISOString());
    await this.authorize(caller, verb, route.kind, current, desired);
    this.sendObject(context, 200, await this.store.update(desired, { dryRun }));
  }

  private async patch(context: RequestContext, verb: 'update' | 'updateStatus'): Promise<void> {
    const type = mediaType(context.req);
    if (type === CONTENT_TYPES.applyYaml || type === CONTENT_TYPES.applyJson) {
      if (verb === 'updateStatus') throw new BadRequestError('apply is not supported on the status subresource: use a merge patch');
      return this.apply(context);
    }
    const patch = await this.body(context, PATCH_TYPES, verb === 'updateStatus' ? PATCH_TYPES : [...PATCH_TYPES, CONTENT_TYPES.applyYaml]);
    const { route, query, caller } = context;
    const dryRun = dryRunOf(query);
    const object = await retryOnRace(
      () => this.store.get(route.kind, route.name!),
      async (current) => {
        await this.authorizeAttempt(caller, verb, current!);
        const patched = checkIdentity(route, type === CONTENT_TYPES.jsonPatch ? applyJsonPatch(current, patch) : mergePatch(current, patch));
        // A resourceVersion the patch sets is a precondition; otherwise the read one guards the write.
        patched.metadata.resourceVersion ??= current!.metadata.resourceVersion;
        if (verb === 'updateStatus') {
          await this.authorize(caller, verb, route.kind, current, patched);
          return this.store.updateStatus(patched, { dryRun });
        }
        const desired = recordUpdate(current, patched, this.manager(context), new Date().toISOString());
        await this.authorize(caller, verb, route.kind, current, desired);
        return this.store.update(desired, { dryRun });
      },
    );
    this.sendObject(context, 200, object);
  }

  private async apply(context: RequestContext): Promise<void> {
    const { route, query, caller } = context;
    const manager = query.get('fieldManager');
    if (!manager) throw new BadRequestError('apply needs ?fieldManager=NAME: the manager that owns the applied fields');
    const force = flagOf(query, 'force');
    const dryRun = dryRunOf(query);
    const configuration = await this.objectBody(context, [CONTENT_TYPES.applyYaml, CONTENT_TYPES.applyJson]);
    const wanted = configuration.metadata.resourceVersion;
    let created = false;
    const object = await retryOnRace(
      () => this.store.tryGet(route.kind, route.name!),
      async (current) => {
        if (wanted !== undefined && wanted !== current?.metadata.resourceVersion) {
          const actual = current?.metadata.resourceVersion;
          throw new ConflictError(route.kind, route.name!, `resourceVersion ${wanted} is stale, current is ${actual ?? 'none (the object does not exist)'}`, actual);
        }
        await this.authorizeAttempt(caller, current ? 'update' : 'create', current ?? configuration);
        const desired = applyConfiguration(current, configuration, manager, { force, now: new Date().toISOString() });
        await this.authorize(caller, current ? 'update' : 'create', route.kind, current, desired);
        created = !current;
        return current ? this.store.update(desired, { dryRun }) : this.store.create(desired, { dryRun });
      },
    );
    this.sendObject(context, created ? 201 : 200, object);
  }

  private async remove(context: RequestContext): Promise<void> {
    const { req, res, route, query, caller } = context;
    const options = parseBody(await readBoundedBody(req, this.maxBodyBytes), CONTENT_TYPES.json) as { preconditions?: { resourceVersion?: unknown } } | undefined;
    const wanted = options?.preconditions?.resourceVersion;
    if (wanted !== undefined && typeof wanted !== 'string') throw new BadRequestError('preconditions.resourceVersion must be a string');
    const current = await this.store.get(route.kind, route.name!);
    await this.authorize(caller, 'delete', route.kind, current);
    const deletedBy = `the API caller ${caller.account ?? 'without an account'} (uid ${caller.uid}${query.get('fieldManager') ? `, field manager ${query.get('fieldManager')}` : ''})`;
    const remaining = await this.store.delete(route.kind, route.name!, { dryRun: dryRunOf(query), deletedBy, ...(wanted === undefined ? {} : { resourceVersion: wanted }) });
    const warning = recreationWarning(current);
    if (warning) addWarning(res, warning);
    if (remaining) {
      // Finalizers hold it: it is now being deleted (202, like Kubernetes' "accepted").
      this.sendObject(context, 202, remaining);
      return;
    }
    sendJson(res, 200, {
      apiVersion: 'v1',
      kind: 'Status',
      status: 'Success',
      message: `${route.kind.toLowerCase()} "${route.name!}" deleted`,
      details: { kind: route.kind, name: route.name },
    });
  }

  /**
   * `slivers/NAME/loans`: GET the sliver's loan list, PUT a new one (replaced in one transaction,
   * as XML-RPC SetLoans does). Reading needs what reading the Loans needs; replacing, SetLoans.
   */
  private async loans(context: RequestContext, method: 'GET' | 'PUT'): Promise<void> {
    const { res, route, query, caller } = context;
    const lender = route.name!;
    const sliver = await this.store.get('Sliver', lender);
    if (method === 'GET') authorizeSliverOperation(caller, 'readLoans', lender, sliver, `read the loans of sliver "${lender}"`);
    else authorizeSliverOperation(caller, 'writeLoans', lender, sliver, `replace the loans of sliver "${lender}"`);
    if (method === 'GET') {
      const listed = await this.store.list('Loan');
      sendJson(res, 200, sliverLoansOf(lender, loansOfLender(listed.items, lender), listed.revision));
      return;
    }
    const wanted = parseSliverLoans(await this.body(context, [CONTENT_TYPES.json, CONTENT_TYPES.yaml]), lender);
    const replaced = await replaceLoans(this.store, wanted, { fieldManager: this.manager(context), dryRun: dryRunOf(query) });
    sendJson(res, 200, sliverLoansOf(lender, replaced.loans, replaced.revision, replaced.removed));
  }

  /**
   * `slivers/NAME/log`: the output of the init script the sliver's last start ran, as text; with
   * `?follow=1` the answer stays open and carries new output as it comes, until the script exits,
   * the sliver goes, or the client leaves. Reading it needs what reading the sliver needs.
   */
  private async log(context: RequestContext): Promise<void> {
    const { res, route, query, caller } = context;
    const name = route.name!;
    await this.authorize(caller, 'read', 'Sliver', await this.store.get('Sliver', name));
    const node = this.node;
    if (!node) throw new SlvError('NotFound', `the fleet API keeps no init script output: ask the node's own API for sliver "${name}"'s log`);
    const follow = flagOf(query, 'follow');
    const read = async (offset: number): Promise<LogChunk | undefined> => {
      try {
        return await node.readInitLog(name, offset);
      } catch (error) {
        // A sliver whose account is not made yet has no output yet.
        if (error instanceof NotFoundError) return { text: '', nextOffset: 0 };
        throw error;
      }
    };
    const first = await read(0);
    if (!first) throw new SlvError('NotFound', `this node (${node.kind} adapter) keeps no init script output: its sliver's own init runs the script`);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.write(first.text);
    if (!follow) {
      res.end();
      return;
    }
    this.watches.add(res);
    let offset = first.nextOffset;
    let timer: NodeJS.Timeout | undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.watches.delete(res);
    });
    const poll = async (): Promise<void> => {
      // Whether the script had exited is asked before reading, so output it wrote before exiting is never lost.
      const exited = (await node.initOutcome(name).catch(() => undefined))?.exitCode !== undefined;
      const gone = !(await this.store.tryGet('Sliver', name));
      const chunk = await read(offset);
      if (chunk?.text) res.write(chunk.text);
      offset = chunk?.nextOffset ?? offset;
      if (exited || gone || !chunk) res.end();
      else if (!res.writableEnded) timer = setTimeout(() => void poll().catch(() => res.destroy()), LOG_FOLLOW_INTERVAL_MS);
    };
    await poll();
  }

  /** End every open watch and log stream (the server is closing). */
  endWatches(): void {
    for (const res of this.watches) res.end();
    this.watches.clear();
  }
}

/**
 * Objects as the client asked for them: as a Kubernetes Table when the Accept header says so
 * (kubectl get), else the object itself (or `list`, a list of them); managedFields in Kubernetes' form.
 */
export function present({ req, route, query }: Pick<RequestContext, 'req' | 'route' | 'query'>, objects: AnyObject[], resourceVersion: string | undefined, list: boolean): unknown {
  if (wantsTable(req.headers.accept)) {
    return kubernetesTable(route.kind, objects.map(withKubernetesManagedFields), {
      nowMs: Date.now(),
      includeObject: includeObjectOf(query),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    });
  }
  const items = objects.map(withKubernetesManagedFields);
  if (!list) return items[0];
  return { apiVersion: API_VERSION, kind: `${route.kind}List`, metadata: { resourceVersion }, items };
}

/** The body must be an object of the route's kind, and name the route's object if there is one. */
function checkIdentity(route: ResourceRoute, value: unknown): AnyObject {
  const kind = kindOf(value);
  if (kind !== route.kind) throw new BadRequestError(`the body is a ${kind}, but the path is for ${route.kind} objects`);
  const object = value as AnyObject;
  const name = (object.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || !name) throw new InvalidError('metadata.name is required', [{ field: 'metadata.name', message: 'required field is missing' }]);
  if (route.name !== undefined && name !== route.name) throw new BadRequestError(`the body names ${kind.toLowerCase()} "${name}", but the path names "${route.name}"`);
  const namespace = (object.metadata as { namespace?: unknown }).namespace;
  if (namespace !== undefined && namespace !== route.namespace) {
    throw new BadRequestError(
      route.namespace === undefined
        ? `the body is in namespace ${JSON.stringify(namespace)}, but this API has no namespaces (the fleet API has: /namespaces/NODE/...)`
        : `the body is in namespace ${JSON.stringify(namespace)}, but the path is for namespace "${route.namespace}"`,
    );
  }
  return object;
}

/**
 * A read-modify-write: `write` gets what `read` returned. When it fails with a conflict and the
 * object has changed since the read, a concurrent write won the race: read again and retry. A
 * conflict on an unchanged object (a stale precondition, a field-ownership conflict) is the answer.
 */
async function retryOnRace(read: () => Promise<AnyObject | undefined>, write: (current: AnyObject | undefined) => Promise<AnyObject | undefined>): Promise<AnyObject | undefined> {
  let current: AnyObject | undefined;
  return retryOnConflict(
    async () => {
      current = await read();
      return write(current);
    },
    {
      attempts: MAX_WRITE_ATTEMPTS,
      retryable: async (error) => (error instanceof ConflictError || error instanceof AlreadyExistsError) && (await read())?.metadata.resourceVersion !== current?.metadata.resourceVersion,
    },
  );
}
