// The table columns of each kind: what `slvctl get` prints and what the REST API answers as a
// Kubernetes Table (kubectl get), from one definition. Cells are plain text; slvctl colours them. Pure.
import { fullRSpec } from './rspec.js';
import { sliverStatusWord } from './sliver-status.js';
import type { AnyObject, Condition, Kind, KindMap } from '../schemas/types.js';
import type { FleetNode } from './fleet.js';

export interface Column<T> {
  /** The header, in capitals as slvctl and kubectl print it. */
  name: string;
  /** Shown only with `-o wide` (Kubernetes' priority 1). */
  wide: boolean;
  cell(object: T, nowMs: number): string;
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

/** `sliver/alice`: how objects are named in output (`-o name`, apply results). */
export function qualifiedName(kind: Kind, name: string): string {
  return `${kind.toLowerCase()}/${name}`;
}

const column = <T>(name: string, cell: (object: T, nowMs: number) => string, wide = false): Column<T> => ({ name, wide, cell });
const ready = (o: AnyObject) => condition((o.status as { conditions?: Condition[] } | undefined)?.conditions, 'Ready')?.status ?? '-';
const created = (o: AnyObject, nowMs: number) => age(o.metadata.creationTimestamp, nowMs);

export const COLUMNS: { [K in Kind]: Array<Column<KindMap[K]>> } = {
  Sliver: [
    column('NAME', (s) => s.metadata.name),
    column('READY', ready),
    column('STATUS', sliverStatusWord),
    column('XID', (s) => String(s.status?.xid ?? '-')),
    column('INSTANTIATION', (s) => s.spec.instantiation),
    column('AGE', created),
    column('TYPE', (s) => s.spec.type, true),
    column('CPU_SHARE', (s) => String((s.status?.effectiveRSpec ?? fullRSpec(s.spec.rspec)).cpu_share), true),
    column('CPU_MIN', (s) => String((s.status?.effectiveRSpec ?? fullRSpec(s.spec.rspec)).cpu_min), true),
    column('NET_MAX', (s) => String((s.status?.effectiveRSpec ?? fullRSpec(s.spec.rspec)).net_max), true),
    column('EXPIRES', (s) => (s.spec.expires === undefined ? '<never>' : new Date(s.spec.expires * 1000).toISOString()), true),
    column('DELEGATIONS', (s) => s.spec.delegations.map((d) => d.account).join(',') || '<none>', true),
  ],
  Delegate: [
    column('NAME', (d) => d.metadata.name),
    column('READY', ready),
    column('UID', (d) => String(d.status?.uid ?? '-')),
    column('KEYS', (d) => String(d.spec.keys.length)),
    column('AGE', created),
    column('INSTANTIATION', (d) => d.spec.instantiation ?? '-', true),
  ],
  Loan: [
    column('NAME', (l) => l.metadata.name),
    column('FROM', (l) => l.spec.from),
    column('TO', (l) => l.spec.to),
    column('RESOURCE', (l) => l.spec.resource),
    column('AMOUNT', (l) => String(l.spec.amount)),
    column('GRANTED', (l) => (l.status?.granted === undefined ? '-' : String(l.status.granted))),
    column('AGE', created),
    column('ORDER', (l) => String(l.spec.order), true),
    column('REASON', (l) => l.status?.reason ?? '-', true),
  ],
  Event: [
    column('LAST SEEN', (e, nowMs) => age(e.spec.lastTimestamp, nowMs)),
    column('TYPE', (e) => e.spec.type),
    column('REASON', (e) => e.spec.reason),
    column('OBJECT', (e) => qualifiedName(e.spec.involvedObject.kind, e.spec.involvedObject.name)),
    column('MESSAGE', (e) => e.spec.message),
    column('COUNT', (e) => String(e.spec.count), true),
    column('SOURCE', (e) => e.spec.source, true),
  ],
  NodeConfig: [
    column('NAME', (n) => n.metadata.name),
    column('HOSTNAME', (n) => n.spec.hostname ?? '-'),
    column('ACCOUNTS', (n) => String(n.spec.accounts.length)),
    column('CONF FILES', (n) => String(n.spec.confFiles.length)),
    column('POLICY', (n) => n.spec.reservationPolicy),
    column('AGE', created),
    column('BANDWIDTH CAP', (n) => (n.spec.bandwidthCap === undefined ? '<none>' : String(n.spec.bandwidthCap)), true),
    column('LEASES', (n) => String(n.spec.leases.length), true),
  ],
};

/** The fleet API's `nodes` (slvctl get nodes, kubectl get nodes against the fleet API). */
export const NODE_COLUMNS: Array<Column<FleetNode>> = [
  column('NAME', (n) => n.metadata.name),
  column('STATUS', (n) => (n.status.conditions[0]?.status === 'True' ? 'Ready' : 'NotReady')),
  column('LAST SEEN', (n, nowMs) => age(n.status.lastSeen, nowMs)),
  column('SLIVERS', (n) => (n.status.slivers ? `${n.status.slivers.ready}/${n.status.slivers.total}` : '-')),
  column('VERSION', (n) => n.status.version ?? '-'),
  column('FLEET LINK', (n) => (n.status.fleetConnected === undefined ? '-' : n.status.fleetConnected ? 'up' : 'down'), true),
];

/** The columns of a kind, the wide ones only if asked for. */
export function columnsOf<K extends Kind>(kind: K, wide: boolean): Array<Column<KindMap[K]>> {
  return (COLUMNS[kind] as Array<Column<KindMap[K]>>).filter((c) => wide || !c.wide);
}

/**
 * The objects of one kind as a Kubernetes `meta.k8s.io/v1` Table: every column, the wide ones at
 * priority 1 (kubectl shows them with `-o wide`), each row with the object's metadata (as
 * PartialObjectMetadata, kubectl's default) or the whole object.
 */
export function kubernetesTable(kind: Kind, objects: AnyObject[], options: TableRequest): unknown {
  // Objects of the route's kind: the store holds nothing else under it.
  return kubernetesTableOf(columnsOf(kind, true) as Array<Column<AnyObject>>, objects, options);
}

export interface TableRequest {
  nowMs: number;
  resourceVersion?: string;
  includeObject: 'None' | 'Metadata' | 'Object';
}

/** Objects as a Kubernetes Table with these columns. */
export function kubernetesTableOf<T extends { metadata: AnyObject['metadata'] | { name: string } }>(columns: Array<Column<T>>, objects: T[], options: TableRequest): unknown {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: 'string', format: c.name === 'NAME' ? 'name' : '', description: '', priority: c.wide ? 1 : 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, options.nowMs)),
      ...(options.includeObject === 'None' ? {} : { object: options.includeObject === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } }),
    })),
  };
}
