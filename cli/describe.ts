// `slvctl describe`: one object for a human: metadata, spec, status, conditions, loans, recent events.
import { yaml } from '../resources/lazy-modules.js';
import { fullRSpec } from '../resources/rspec.js';
import { RSPEC_KEYS, type AnyObject, type Condition, type Loan, type SlvEvent, type Sliver } from '../schemas/types.js';
import { age } from '../resources/columns.js';
import { indent, table, type Palette } from './output.js';

/** How many of the newest events describe shows. */
export const DESCRIBE_EVENTS = 10;

function field(label: string, value: string): string {
  return `${`${label}:`.padEnd(20)}${value}\n`;
}

function mapText(map: Record<string, string> | undefined): string {
  const entries = Object.entries(map ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '<none>';
}

function sliverSpec(sliver: Sliver, colour: Palette): string {
  const { spec, status } = sliver;
  const plc = fullRSpec(spec.rspec);
  const delegations = spec.delegations.map((d) => `${d.account} (${d.methods?.join(', ') ?? 'all methods'})`).join('; ');
  const rspecRows = RSPEC_KEYS.map((key) => {
    const effective = status?.effectiveRSpec?.[key];
    const changed = effective !== undefined && effective !== plc[key];
    return [key, String(plc[key]), effective === undefined ? '-' : changed ? colour.bold(String(effective)) : String(effective)];
  });
  return (
    field('Type', spec.type) +
    field('Instantiation', spec.instantiation) +
    field('Run', spec.run?.state ?? 'Running') +
    field('Keys', `${spec.keys.length}`) +
    field('Expires', spec.expires === undefined ? '<never>' : new Date(spec.expires * 1000).toISOString()) +
    field('Delegations', delegations || '<none>') +
    field('Init script', spec.initscript ? `${spec.initscript.split('\n').length} line(s)` : '<none>') +
    `RSpec:\n${indent(table(['RESOURCE', 'PLC', 'EFFECTIVE'], rspecRows))}`
  );
}

function sliverStatus(sliver: Sliver): string {
  const status = sliver.status ?? {};
  return (
    field('Xid', status.xid === undefined ? '-' : String(status.xid)) +
    field('Running', status.running === undefined ? '-' : status.running ? 'yes' : 'no') +
    field('Last start', status.lastStartTime ?? '-') +
    field('Observed gen.', status.observedGeneration === undefined ? '-' : String(status.observedGeneration))
  );
}

function conditionsOf(object: AnyObject): Condition[] {
  return (object.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
}

export interface Related {
  events: SlvEvent[];
  /** For a sliver: the loans it made and received. */
  loans: Loan[];
}

export function describeObject(object: AnyObject, related: Related, colour: Palette): string {
  const { metadata } = object;
  let out =
    field('Name', colour.bold(metadata.name)) +
    field('Kind', object.kind) +
    field('Labels', mapText(metadata.labels)) +
    field('Annotations', mapText(metadata.annotations)) +
    field('Created', metadata.creationTimestamp ? `${metadata.creationTimestamp} (${age(metadata.creationTimestamp)} ago)` : '-') +
    field('Generation', String(metadata.generation ?? '-')) +
    field('Resource version', metadata.resourceVersion ?? '-');
  if (metadata.deletionTimestamp) out += field('Deleting since', `${metadata.deletionTimestamp} (waiting for finalizers: ${(metadata.finalizers ?? []).join(', ')})`);
  else if (metadata.finalizers?.length) out += field('Finalizers', metadata.finalizers.join(', '));

  if (object.kind === 'Sliver') out += `Spec:\n${indent(sliverSpec(object, colour))}Status:\n${indent(sliverStatus(object))}`;
  else {
    out += `Spec:\n${indent(yaml().stringify(object.spec))}`;
    const { conditions: _shownBelow, ...status } = (object.status ?? {}) as Record<string, unknown>;
    if (Object.keys(status).length) out += `Status:\n${indent(yaml().stringify(status))}`;
  }

  const conditions = conditionsOf(object);
  if (conditions.length) {
    const rows = conditions.map((c) => [
      c.type,
      c.status === 'True' ? colour.green(c.status) : c.status === 'False' ? colour.red(c.status) : colour.yellow(c.status),
      c.reason,
      c.message,
      age(c.lastTransitionTime),
    ]);
    out += `Conditions:\n${indent(table(['TYPE', 'STATUS', 'REASON', 'MESSAGE', 'SINCE'], rows))}`;
  }
  if (object.kind === 'Sliver') {
    const rows = related.loans.map((l) => [l.spec.from === metadata.name ? `to ${l.spec.to}` : `from ${l.spec.from}`, l.spec.resource, String(l.spec.amount), l.status?.reason ?? '-']);
    out += rows.length ? `Loans:\n${indent(table(['', 'RESOURCE', 'AMOUNT', 'STATE'], rows))}` : field('Loans', '<none>');
  }
  const events = [...related.events].sort((a, b) => a.spec.lastTimestamp.localeCompare(b.spec.lastTimestamp)).slice(-DESCRIBE_EVENTS);
  if (events.length) {
    const rows = events.map((e) => [
      e.spec.type === 'Warning' ? colour.yellow(e.spec.type) : e.spec.type,
      e.spec.reason,
      `${age(e.spec.lastTimestamp)}${e.spec.count > 1 ? ` (x${e.spec.count})` : ''}`,
      e.spec.source,
      e.spec.message,
    ]);
    out += `Events:\n${indent(table(['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'], rows))}`;
  } else out += field('Events', '<none>');
  return out;
}
