// How slvctl prints objects: aligned tables (with `-o wide` columns), yaml, json, name, jsonpath.
import { yaml } from '../resources/lazy-modules.js';
import { columnsOf, qualifiedName } from '../resources/columns.js';
import { UsageError } from '../resources/errors.js';
import type { AnyObject, Kind, KindMap } from '../schemas/types.js';
import { jsonPath, jsonPathValues } from './jsonpath.js';

/** A custom column: its header and the JSONPath expression of its cells. */
export interface CustomColumn {
  header: string;
  path: string;
}

export type OutputFormat = { type: 'table' | 'wide' | 'yaml' | 'json' | 'name' } | { type: 'jsonpath'; template: string } | { type: 'custom-columns'; columns: CustomColumn[] };

/** `-o custom-columns=NAME:.metadata.name,XID:.status.xid`. */
function parseCustomColumns(spec: string): CustomColumn[] {
  return spec.split(',').map((entry) => {
    const colon = entry.indexOf(':');
    const header = entry.slice(0, colon).trim();
    const path = entry.slice(colon + 1).trim();
    if (colon < 0 || !header || !path) throw new UsageError(`invalid custom column "${entry}": expected HEADER:JSONPATH, e.g. NAME:.metadata.name`);
    jsonPathValues(path, {}); // a syntax error is reported now, not once per row
    return { header, path };
  });
}

export function parseOutput(value: string | undefined): OutputFormat {
  if (value === undefined || value === '') return { type: 'table' };
  if (value.startsWith('jsonpath=')) return { type: 'jsonpath', template: value.slice('jsonpath='.length) };
  if (value.startsWith('custom-columns=')) return { type: 'custom-columns', columns: parseCustomColumns(value.slice('custom-columns='.length)) };
  if (value === 'wide' || value === 'yaml' || value === 'json' || value === 'name') return { type: value };
  throw new UsageError(`unknown output format "${value}": expected wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=HEADER:PATH,...`);
}

/** Table formats print rows; the others print documents. */
export function isTable(format: OutputFormat): boolean {
  return format.type === 'table' || format.type === 'wide' || format.type === 'custom-columns';
}

/** ANSI colours, only when writing to a terminal and NO_COLOR is unset. */
export interface Palette {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
}

export function palette(enabled: boolean): Palette {
  const wrap = (code: number) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), bold: wrap(1) };
}

export function colourFor(stream: NodeJS.WriteStream): Palette {
  return palette(Boolean(stream.isTTY) && !process.env.NO_COLOR);
}

/** Cells may carry ANSI colour; widths count what is visible. */
const visible = (cell: string) => cell.replace(/\u001b\[\d+m/g, '').length;
const COLUMN_GAP = 3;

function widen(widths: number[], rows: readonly string[][]): number[] {
  const next = [...widths];
  for (const row of rows) row.forEach((cell, i) => (next[i] = Math.max(next[i] ?? 0, visible(cell))));
  return next;
}

function formatRows(widths: readonly number[], rows: readonly string[][]): string {
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell) + COLUMN_GAP)))
          .join('')
          .trimEnd()}\n`,
    )
    .join('');
}

/** Every line of `text` indented by `by` spaces. */
export function indent(text: string, by = 2): string {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => `${' '.repeat(by)}${line}`)
    .join('\n')
    .concat('\n');
}

/** Aligned columns, the header (if any) first. */
export function table(header: string[] | undefined, rows: string[][]): string {
  const all = header ? [header, ...rows] : rows;
  return formatRows(widen([], all), all);
}

/**
 * A table printed in parts (a watch): later rows keep the columns of the first part, so they line
 * up with its header; a column widens only when a cell does not fit.
 */
export class AlignedTable {
  constructor(
    private readonly out: { write(text: string): unknown },
    /** Starting widths, for columns whose later cells are likely wider than the first part's. */
    private widths: number[] = [],
  ) {}

  write(rows: string[][]): void {
    this.widths = widen(this.widths, rows);
    this.out.write(formatRows(this.widths, rows));
  }
}

/** The colour of a cell, by kind and column: conditions and outcomes stand out on a terminal. */
function colourCell(kind: Kind, column: string, cell: string, colour: Palette): string {
  if (column === 'READY') return cell === 'True' ? colour.green(cell) : cell === 'False' ? colour.red(cell) : cell === '-' ? cell : colour.yellow(cell);
  if (kind === 'Sliver' && column === 'STATUS') return cell === 'Running' ? cell : cell === 'Stopped' || cell === 'Pending' ? colour.yellow(cell) : colour.red(cell);
  if (kind === 'Loan' && column === 'GRANTED') return cell === 'true' ? colour.green(cell) : cell === 'false' ? colour.red(cell) : cell;
  if (kind === 'Event' && column === 'TYPE') return cell === 'Warning' ? colour.yellow(cell) : cell;
  return cell;
}

export interface TableOptions {
  format: OutputFormat;
  colour: Palette;
  nowMs: number;
  /** A LABELS column with every label. */
  showLabels?: boolean;
  /** One column per label key (`-L team`), headed by the key in capitals. */
  labelColumns?: string[];
  /** Names as `sliver/alice`, as when several kinds are listed together. */
  withKind?: boolean;
  /** A first NODE column: each object's namespace (get -A on the fleet API). */
  withNode?: boolean;
}

function cellOf(values: unknown[]): string {
  if (!values.length) return '<none>';
  return values.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(',');
}

/** The header and rows of objects of one kind in a table format (table, wide, custom-columns). */
export function tableOf<K extends Kind>(kind: K, objects: KindMap[K][], options: TableOptions): { header: string[]; rows: string[][] } {
  const { format, colour, nowMs } = options;
  if (format.type === 'custom-columns') {
    return { header: format.columns.map((c) => c.header), rows: objects.map((o) => format.columns.map((c) => cellOf(jsonPathValues(c.path, o)))) };
  }
  const columns = columnsOf(kind, format.type === 'wide');
  const labelKeys = options.labelColumns ?? [];
  const header = [...(options.withNode ? ['NODE'] : []), ...columns.map((c) => c.name), ...labelKeys.map((key) => key.toUpperCase()), ...(options.showLabels ? ['LABELS'] : [])];
  const rows = objects.map((o) => {
    const cells = columns.map((c) => colourCell(kind, c.name, c.cell(o, nowMs), colour));
    if (options.withKind && columns[0]!.name === 'NAME') cells[0] = qualifiedName(kind, cells[0]!);
    const labels = o.metadata.labels ?? {};
    const labelText =
      Object.entries(labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(',') || '<none>';
    return [...(options.withNode ? [o.metadata.namespace ?? '-'] : []), ...cells, ...labelKeys.map((key) => labels[key] ?? ''), ...(options.showLabels ? [labelText] : [])];
  });
  return { header, rows };
}

/** Objects without the bookkeeping a reader does not need (managedFields). */
export function forDisplay<T extends AnyObject>(object: T): T {
  const { managedFields: _managed, ...metadata } = object.metadata;
  return { ...object, metadata } as T;
}

/** One object, or a List of them when `single` is false, in a document format. */
export function formatObjects(format: OutputFormat, objects: AnyObject[], single: boolean): string {
  const data = single ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
  switch (format.type) {
    case 'json':
      return `${JSON.stringify(data, null, 2)}\n`;
    case 'yaml':
      return yaml().stringify(data);
    case 'name':
      return objects.map((o) => `${qualifiedName(o.kind, o.metadata.name)}\n`).join('');
    case 'jsonpath':
      return jsonPath(format.template, data);
    default:
      throw new UsageError(`output format ${format.type} is a table, not a document format`);
  }
}
