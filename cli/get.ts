// `slvctl get` and `slvctl events`: one or several kinds, names or TYPE/NAME arguments, sorted
// (events by time), as tables or documents; `-w` follows changes in a table that stays aligned and
// outlives a restart of slvd (it reconnects from the last revision it printed, or gives up with
// exit 3).
import { setTimeout as sleep } from 'node:timers/promises';
import { yaml } from '../resources/lazy-modules.js';
import { SlvError, UnavailableError, UsageError } from '../resources/errors.js';
import type { AnyObject, Kind } from '../schemas/types.js';
import type { ApiWatchEvent, Selectors } from '../adapters/api/client/client.js';
import type { Context } from './context.js';
import { jsonPathValues } from './jsonpath.js';
import { NODE_COLUMNS, qualifiedName } from '../resources/columns.js';
import type { Target } from './kinds.js';
import { AlignedTable, forDisplay, formatObjects, isTable, table, tableOf, type OutputFormat, type TableOptions } from './output.js';

export interface GetOptions {
  output: OutputFormat;
  watch: boolean;
  selector?: string;
  /** Server-side field selector (events --for). */
  fieldSelector?: string;
  /** JSONPath of the value to sort by; events default to their last time. */
  sortBy?: string;
  noHeaders: boolean;
  showLabels: boolean;
  labelColumns: string[];
  /** Watch: an EVENT column (tables) or {type, object} documents. */
  watchEvents: boolean;
  /** Watch: how long to wait for slvd to come back after it ended the stream. */
  reconnectTimeoutMs: number;
  /** The fleet API: every node's objects, with a NODE column (-A). */
  allNamespaces?: boolean;
}

/** How often a watch that lost slvd tries to reach it again. */
const RECONNECT_INTERVAL_MS = 500;

/** undefined first, numbers by value, the rest as text: kubectl's --sort-by order. */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sortObjects<T extends AnyObject>(objects: T[], kind: Kind, sortBy: string | undefined): T[] {
  const path = sortBy ?? (kind === 'Event' ? '.spec.lastTimestamp' : undefined);
  if (!path) return objects;
  const keyed = objects.map((object) => ({ object, key: jsonPathValues(path, object)[0] }));
  return keyed.sort((a, b) => compareValues(a.key, b.key) || a.object.metadata.name.localeCompare(b.object.metadata.name)).map((k) => k.object);
}

function selectorsOf(options: GetOptions, name?: string): Selectors {
  const fields = [options.fieldSelector, name === undefined ? undefined : `metadata.name=${name}`].filter(Boolean).join(',');
  return { ...(options.selector ? { labelSelector: options.selector } : {}), ...(fields ? { fieldSelector: fields } : {}) };
}

function tableOptions(context: Context, options: GetOptions, withKind: boolean): TableOptions {
  return { format: options.output, colour: context.colour, nowMs: Date.now(), showLabels: options.showLabels, labelColumns: options.labelColumns, withKind, withNode: Boolean(options.allNamespaces) };
}

export async function get(context: Context, targets: Target[], options: GetOptions): Promise<void> {
  if (options.allNamespaces && targets.some((t) => t.names.length)) throw new UsageError('a name is looked up in one node: use -n NODE, not -A (--all-namespaces)');
  if (options.allNamespaces && options.watch) throw new UsageError("watch (-w) follows one node's objects: use -n NODE, not -A (--all-namespaces)");
  if (options.watch) {
    const [target, ...others] = targets;
    if (!target || others.length || target.names.length > 1) throw new UsageError('watch (-w) follows one resource type, and at most one name');
    return watch(context, target.kind, target.names[0], options);
  }
  const found: Array<{ kind: Kind; objects: AnyObject[] }> = [];
  const missing: string[] = [];
  for (const { kind, names } of targets) {
    let objects: AnyObject[];
    if (names.length) {
      objects = [];
      for (const name of names) {
        const object = await context.client.tryGet(kind, name);
        if (object) objects.push(object);
        else missing.push(`${kind.toLowerCase()} "${name}"`);
      }
    } else objects = (await context.client.list(kind, selectorsOf(options), { allNamespaces: Boolean(options.allNamespaces) })).items;
    found.push({ kind, objects: names.length && !options.sortBy ? objects : sortObjects(objects, kind, options.sortBy) });
  }
  const named = targets.some((t) => t.names.length > 0);
  printFound(context, found, options, { single: targets.length === 1 && targets[0]!.names.length === 1, named });
  if (missing.length) throw new SlvError('NotFound', `${missing.join(', ')} not found`);
}

/** `single`: one object was asked for by name (documents show it alone, not in a List). */
function printFound(context: Context, found: Array<{ kind: Kind; objects: AnyObject[] }>, options: GetOptions, { single, named }: { single: boolean; named: boolean }): void {
  const all = found.flatMap((f) => f.objects);
  if (!isTable(options.output)) {
    if (all.length || !single) context.out.write(formatObjects(options.output, all.map(forDisplay), single));
    return;
  }
  if (!all.length) {
    if (named) return; // the missing names are the error
    process.stderr.write(found.length === 1 ? `No ${found[0]!.kind.toLowerCase()}s found.\n` : 'No resources found.\n');
    return;
  }
  const withKind = found.length > 1;
  const tables = found
    .filter((f) => f.objects.length)
    .map(({ kind, objects }) => {
      const { header, rows } = tableOf(kind, objects as never[], tableOptions(context, options, withKind));
      return table(options.noHeaders ? undefined : header, rows);
    });
  context.out.write(tables.join('\n'));
}

// ---- watch --------------------------------------------------------------------------------------

/**
 * A watch prints its header before most of the rows it must line up with: columns whose cells are
 * often wider than their header start this wide (longest status word, PlanetLab slice names, ...).
 */
const WATCH_COLUMN_WIDTHS: Record<string, number> = { EVENT: 8, NAME: 20, STATUS: 17, INSTANTIATION: 16, TYPE: 14, OBJECT: 28, REASON: 20, FROM: 16, TO: 16, RESOURCE: 9 };

/** Prints a watch: the listing, then each change; remembers what it printed to resync after a relist. */
class WatchPrinter {
  private readonly rows: AlignedTable;
  /** What was last printed per name. */
  private readonly shown = new Map<string, { object: AnyObject }>();
  private readonly header: string[];

  constructor(
    private readonly context: Context,
    private readonly kind: Kind,
    private readonly options: GetOptions,
  ) {
    const { header } = tableOf(kind, [], tableOptions(context, options, false));
    this.header = [...(options.watchEvents ? ['EVENT'] : []), ...header];
    this.rows = new AlignedTable(
      context.out,
      this.header.map((h) => WATCH_COLUMN_WIDTHS[h] ?? 0),
    );
  }

  listing(objects: AnyObject[]): void {
    if (isTable(this.options.output) && !this.options.noHeaders) this.rows.write([this.header]);
    for (const object of sortObjects(objects, this.kind, this.options.sortBy)) this.print({ type: 'ADDED', object });
  }

  /** After a relist (the watch's revision was compacted): print only what changed meanwhile. */
  resync(objects: AnyObject[]): void {
    const listed = new Set(objects.map((o) => o.metadata.name));
    for (const [name, { object }] of this.shown) if (!listed.has(name)) this.print({ type: 'DELETED', object });
    for (const object of objects) {
      const before = this.shown.get(object.metadata.name)?.object;
      if (before?.metadata.resourceVersion !== object.metadata.resourceVersion) this.print({ type: before ? 'MODIFIED' : 'ADDED', object });
    }
  }

  /** The row cells of `objects`, all at one moment (so AGE is the same for a repeat). */
  private cellsOf(objects: AnyObject[], nowMs: number): string[][] {
    return tableOf(this.kind, objects as never[], { ...tableOptions(this.context, this.options, false), nowMs }).rows;
  }

  print(event: ApiWatchEvent): void {
    const { type, object } = event;
    const { output, watchEvents } = this.options;
    const before = this.shown.get(object.metadata.name)?.object;
    if (type === 'DELETED') this.shown.delete(object.metadata.name);
    else this.shown.set(object.metadata.name, { object });
    if (isTable(output)) {
      const [cells, previous] = this.cellsOf(before ? [object, before] : [object], Date.now());
      // A change to what the row does not show (managedFields, observedGeneration) would repeat the row: skip it.
      if (type === 'MODIFIED' && !watchEvents && previous?.join('\t') === cells!.join('\t')) return;
      this.rows.write([[...(watchEvents ? [type] : []), ...cells!]]);
      return;
    }
    const shown = forDisplay(object);
    const { out } = this.context;
    if (output.type === 'yaml') out.write(`---\n${yaml().stringify(watchEvents ? { type, object: shown } : shown)}`);
    else if (output.type === 'json' && watchEvents) out.write(`${JSON.stringify({ type, object: shown }, null, 2)}\n`);
    else if (output.type === 'name' && watchEvents) out.write(`${type} ${qualifiedName(object.kind, object.metadata.name)}\n`);
    else out.write(formatObjects(output, [shown], true));
  }
}

/** How one watch stream ended: slvd closed it or went away (reconnect), or its revision is gone (relist). */
async function follow(context: Context, kind: Kind, selectors: Selectors, revision: { value: string }, onEvent: (event: ApiWatchEvent) => void): Promise<'lost' | 'gone'> {
  try {
    await context.client.watch(kind, { ...selectors, resourceVersion: revision.value }, (event) => {
      revision.value = event.object.metadata.resourceVersion ?? revision.value;
      onEvent(event);
    }).done;
    return 'lost';
  } catch (error) {
    if (error instanceof SlvError && error.reason === 'Gone') return 'gone';
    if (error instanceof UnavailableError) return 'lost';
    throw error;
  }
}

/** Waits until slvd answers again; an UnavailableError (exit 3) if it does not within the timeout. */
async function awaitSlvd(context: Context, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  process.stderr.write(`slvd ended the watch; reconnecting (for up to ${timeoutMs / 1000}s)\n`);
  for (;;) {
    try {
      await context.client.request('GET', '/healthz');
      return;
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      if (Date.now() >= deadline) throw new UnavailableError(`slvd ended the watch and did not come back within ${timeoutMs / 1000}s`);
    }
    await sleep(RECONNECT_INTERVAL_MS);
  }
}

async function watch(context: Context, kind: Kind, name: string | undefined, options: GetOptions): Promise<void> {
  const selectors = selectorsOf(options, name);
  const listed = await context.client.list(kind, selectors);
  if (name !== undefined && !listed.items.length) throw new SlvError('NotFound', `${kind.toLowerCase()} "${name}" not found`);
  const printer = new WatchPrinter(context, kind, options);
  printer.listing(listed.items);
  const revision = { value: listed.metadata.resourceVersion };
  // Until interrupted: a closed stream is followed again from the last revision printed.
  for (;;) {
    const ended = await follow(context, kind, selectors, revision, (event) => printer.print(event));
    if (ended === 'gone') {
      const relisted = await context.client.list(kind, selectors);
      printer.resync(relisted.items);
      revision.value = relisted.metadata.resourceVersion;
    } else await awaitSlvd(context, options.reconnectTimeoutMs);
  }
}

// ---- nodes (the fleet API) ----------------------------------------------------------------------

/** `slvctl get nodes [NAME...]`: the fleet's nodes, Ready or NotReady from their heartbeats. */
export async function getNodes(context: Context, names: string[], options: GetOptions): Promise<void> {
  if (options.watch) throw new UsageError('nodes cannot be watched (-w): list them again');
  const nodes = names.length ? await Promise.all(names.map((name) => context.client.nodes(name).then((found) => found[0]!))) : await context.client.nodes();
  if (!isTable(options.output)) {
    context.out.write(formatObjects(options.output, nodes as unknown as AnyObject[], names.length === 1));
    return;
  }
  if (options.output.type === 'custom-columns') throw new UsageError('custom-columns are not available for nodes: use -o json or -o yaml');
  if (!nodes.length) {
    process.stderr.write('No nodes found.\n');
    return;
  }
  const nowMs = Date.now();
  const columns = NODE_COLUMNS.filter((c) => options.output.type === 'wide' || !c.wide);
  context.out.write(
    table(
      options.noHeaders ? undefined : columns.map((c) => c.name),
      nodes.map((node) => columns.map((c) => c.cell(node, nowMs))),
    ),
  );
}
