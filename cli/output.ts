// How slvctl prints objects: aligned tables (with `-o wide` columns), yaml, json, name, jsonpath.
import { stringify as toYaml } from 'yaml';
import { fullRSpec } from '../resources/rspec.js';
import { UsageError } from '../resources/errors.js';
import type { AnyObject, Condition, Kind, KindMap } from '../schemas/types.js';
import { jsonPath, jsonPathValues } from './jsonpath.js';
import { sliverStatusWord } from './sliver-status.js';
import { qualifiedName } from './kinds.js';

/** A custom column: its header and the JSONPath expression of its cells. */
export interface CustomColumn {
  header: string;
  path: string;
}

export type OutputFormat =
  | { type: 'table' | 'wide' | 'yaml' | 'json' | 'name' }
  | { type: 'jsonpath'; template: string }
  | { type: 'custom-columns'; columns: CustomColumn[] };

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

/** "5s", "3m", "2h", "4d" since an RFC 3339 time, as kubectl prints ages. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export function condition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
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
  return rows.map((row) => `${row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell) + COLUMN_GAP))).join('').trimEnd()}\n`).join('');
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

interface Columns<T> {
  header: string[];
  wide: string[];
  row(object: T, colour: Palette, nowMs: number): string[];
  wideRow(object: T): string[];
}

function statusCell(c: Condition | undefined, colour: Palette): string {
  if (!c) return '-';
  return c.status === 'True' ? colour.green(c.status) : c.status === 'False' ? colour.red(c.status) : colour.yellow(c.status);
}

function statusWordCell(word: string, colour: Palette): string {
  return word === 'Running' ? word : word === 'Stopped' || word === 'Pending' ? colour.yellow(word) : colour.red(word);
}

const COLUMNS: { [K in Kind]: Columns<KindMap[K]> } = {
  Sliver: {
    header: ['NAME', 'READY', 'STATUS', 'XID', 'INSTANTIATION', 'AGE'],
    wide: ['TYPE', 'CPU_SHARE', 'CPU_MIN', 'NET_MAX', 'EXPIRES', 'DELEGATIONS'],
    row: (s, colour, nowMs) => [s.metadata.name, statusCell(condition(s.status?.conditions, 'Ready'), colour), statusWordCell(sliverStatusWord(s, nowMs), colour), String(s.status?.xid ?? '-'), s.spec.instantiation, age(s.metadata.creationTimestamp, nowMs)],
    wideRow: (s) => {
      const rspec = s.status?.effectiveRSpec ?? fullRSpec(s.spec.rspec);
      const delegations = s.spec.delegations.map((d) => d.account).join(',') || '<none>';
      return [s.spec.type, String(rspec.cpu_share), String(rspec.cpu_min), String(rspec.net_max), s.spec.expires === undefined ? '<never>' : new Date(s.spec.expires * 1000).toISOString(), delegations];
    },
  },
  Delegate: {
    header: ['NAME', 'READY', 'UID', 'KEYS', 'AGE'],
    wide: ['INSTANTIATION'],
    row: (d, colour, nowMs) => [d.metadata.name, statusCell(condition(d.status?.conditions, 'Ready'), colour), String(d.status?.uid ?? '-'), String(d.spec.keys.length), age(d.metadata.creationTimestamp, nowMs)],
    wideRow: (d) => [d.spec.instantiation ?? '-'],
  },
  Loan: {
    header: ['NAME', 'FROM', 'TO', 'RESOURCE', 'AMOUNT', 'GRANTED', 'AGE'],
    wide: ['ORDER', 'REASON'],
    row: (l, colour, nowMs) => [
      l.metadata.name,
      l.spec.from,
      l.spec.to,
      l.spec.resource,
      String(l.spec.amount),
      l.status?.granted === undefined ? '-' : l.status.granted ? colour.green('true') : colour.red('false'),
      age(l.metadata.creationTimestamp, nowMs),
    ],
    wideRow: (l) => [String(l.spec.order), l.status?.reason ?? '-'],
  },
  Event: {
    header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wide: ['COUNT', 'SOURCE'],
    row: (e, colour, nowMs) => [age(e.spec.lastTimestamp, nowMs), e.spec.type === 'Warning' ? colour.yellow(e.spec.type) : e.spec.type, e.spec.reason, qualifiedName(e.spec.involvedObject.kind, e.spec.involvedObject.name), e.spec.message],
    wideRow: (e) => [String(e.spec.count), e.spec.source],
  },
  NodeConfig: {
    header: ['NAME', 'HOSTNAME', 'ACCOUNTS', 'CONF FILES', 'POLICY', 'AGE'],
    wide: ['BANDWIDTH CAP', 'LEASES'],
    row: (n) => [n.metadata.name, n.spec.hostname ?? '-', String(n.spec.accounts.length), String(n.spec.confFiles.length), n.spec.reservationPolicy, age(n.metadata.creationTimestamp)],
    wideRow: (n) => [n.spec.bandwidthCap === undefined ? '<none>' : String(n.spec.bandwidthCap), String(n.spec.leases.length)],
  },
};

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
  const columns = COLUMNS[kind] as Columns<KindMap[K]>;
  const wide = format.type === 'wide';
  const labelKeys = options.labelColumns ?? [];
  const header = [...columns.header, ...(wide ? columns.wide : []), ...labelKeys.map((key) => key.toUpperCase()), ...(options.showLabels ? ['LABELS'] : [])];
  const rows = objects.map((o) => {
    const cells = columns.row(o, colour, nowMs);
    if (options.withKind && columns.header[0] === 'NAME') cells[0] = qualifiedName(kind, cells[0]!);
    const labels = o.metadata.labels ?? {};
    const labelText = Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',') || '<none>';
    return [...cells, ...(wide ? columns.wideRow(o) : []), ...labelKeys.map((key) => labels[key] ?? ''), ...(options.showLabels ? [labelText] : [])];
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
      return toYaml(data);
    case 'name':
      return objects.map((o) => `${qualifiedName(o.kind, o.metadata.name)}\n`).join('');
    case 'jsonpath':
      return jsonPath(format.template, data);
    default:
      throw new UsageError(`output format ${format.type} is a table, not a document format`);
  }
}
