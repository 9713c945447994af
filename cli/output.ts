// How slvctl prints objects: aligned tables (with `-o wide` columns), yaml, json, name, jsonpath.
import { stringify as toYaml } from 'yaml';
import { fullRSpec } from '../resources/rspec.js';
import { UsageError } from '../resources/errors.js';
import type { AnyObject, Condition, Kind, KindMap } from '../schemas/types.js';
import { jsonPath } from './jsonpath.js';
import { qualifiedName } from './kinds.js';

export type OutputFormat = { type: 'table' | 'wide' | 'yaml' | 'json' | 'name' } | { type: 'jsonpath'; template: string };

export function parseOutput(value: string | undefined): OutputFormat {
  if (value === undefined || value === '') return { type: 'table' };
  if (value.startsWith('jsonpath=')) return { type: 'jsonpath', template: value.slice('jsonpath='.length) };
  if (value === 'wide' || value === 'yaml' || value === 'json' || value === 'name') return { type: value };
  throw new UsageError(`unknown output format "${value}": expected wide, yaml, json, name or jsonpath=TEMPLATE`);
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

export function table(header: string[] | undefined, rows: string[][]): string {
  const all = header ? [header, ...rows] : rows;
  const widths = (header ?? rows[0] ?? []).map((_, i) => Math.max(...all.map((row) => visible(row[i] ?? ''))));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell) + 3))).join('').trimEnd()).join('\n') + (all.length ? '\n' : '');
}

interface Columns<T> {
  header: string[];
  wide: string[];
  row(object: T, colour: Palette): string[];
  wideRow(object: T): string[];
}

function statusCell(c: Condition | undefined, colour: Palette): string {
  if (!c) return '-';
  return c.status === 'True' ? colour.green(c.status) : c.status === 'False' ? colour.red(c.status) : colour.yellow(c.status);
}

const COLUMNS: { [K in Kind]: Columns<KindMap[K]> } = {
  Sliver: {
    header: ['NAME', 'READY', 'RUNNING', 'XID', 'INSTANTIATION', 'AGE'],
    wide: ['TYPE', 'CPU_SHARE', 'CPU_MIN', 'NET_MAX', 'EXPIRES', 'DELEGATIONS'],
    row: (s, colour) => [s.metadata.name, statusCell(condition(s.status?.conditions, 'Ready'), colour), s.status?.running === undefined ? '-' : String(s.status.running), String(s.status?.xid ?? '-'), s.spec.instantiation, age(s.metadata.creationTimestamp)],
    wideRow: (s) => {
      const rspec = s.status?.effectiveRSpec ?? fullRSpec(s.spec.rspec);
      const delegations = s.spec.delegations.map((d) => d.account).join(',') || '<none>';
      return [s.spec.type, String(rspec.cpu_share), String(rspec.cpu_min), String(rspec.net_max), s.spec.expires === undefined ? '<never>' : new Date(s.spec.expires * 1000).toISOString(), delegations];
    },
  },
  Delegate: {
    header: ['NAME', 'READY', 'UID', 'KEYS', 'AGE'],
    wide: ['INSTANTIATION'],
    row: (d, colour) => [d.metadata.name, statusCell(condition(d.status?.conditions, 'Ready'), colour), String(d.status?.uid ?? '-'), String(d.spec.keys.length), age(d.metadata.creationTimestamp)],
    wideRow: (d) => [d.spec.instantiation ?? '-'],
  },
  Loan: {
    header: ['NAME', 'FROM', 'TO', 'RESOURCE', 'AMOUNT', 'GRANTED', 'AGE'],
    wide: ['ORDER', 'REASON'],
    row: (l, colour) => [
      l.metadata.name,
      l.spec.from,
      l.spec.to,
      l.spec.resource,
      String(l.spec.amount),
      l.status?.granted === undefined ? '-' : l.status.granted ? colour.green('true') : colour.red('false'),
      age(l.metadata.creationTimestamp),
    ],
    wideRow: (l) => [String(l.spec.order), l.status?.reason ?? '-'],
  },
  Event: {
    header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wide: ['COUNT', 'SOURCE'],
    row: (e, colour) => [age(e.spec.lastTimestamp), e.spec.type === 'Warning' ? colour.yellow(e.spec.type) : e.spec.type, e.spec.reason, qualifiedName(e.spec.involvedObject.kind, e.spec.involvedObject.name), e.spec.message],
    wideRow: (e) => [String(e.spec.count), e.spec.source],
  },
  NodeConfig: {
    header: ['NAME', 'HOSTNAME', 'ACCOUNTS', 'CONF FILES', 'POLICY', 'AGE'],
    wide: ['BANDWIDTH CAP', 'LEASES'],
    row: (n) => [n.metadata.name, n.spec.hostname ?? '-', String(n.spec.accounts.length), String(n.spec.confFiles.length), n.spec.reservationPolicy, age(n.metadata.creationTimestamp)],
    wideRow: (n) => [n.spec.bandwidthCap === undefined ? '<none>' : String(n.spec.bandwidthCap), String(n.spec.leases.length)],
  },
};

/** Table rows of objects of one kind (with the header unless `header` is false). */
export function tableOf<K extends Kind>(kind: K, objects: KindMap[K][], wide: boolean, colour: Palette, header = true): string {
  const columns = COLUMNS[kind] as Columns<KindMap[K]>;
  const rows = objects.map((o) => [...columns.row(o, colour), ...(wide ? columns.wideRow(o) : [])]);
  return table(header ? [...columns.header, ...(wide ? columns.wide : [])] : undefined, rows);
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
