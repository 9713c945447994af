// `slvctl explain sliver.spec.rspec`: a field of a kind as its JSON Schema (schemas/kinds.ts) has
// it: type, whether required, allowed values and ranges, and its fields. The same schemas the
// server validates with, so the answer cannot drift from what is accepted. Pure.
import { UsageError } from '../resources/errors.js';
import { SCHEMAS } from '../schemas/kinds.js';
import { API_VERSION, type Kind } from '../schemas/types.js';
import { resolveKind } from './kinds.js';
import { indent, table } from './output.js';

/** The parts of a JSON Schema node explain reads. */
interface SchemaNode {
  type?: string;
  description?: string;
  nullable?: boolean;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
}

function typeOf(node: SchemaNode): string {
  if (node.type === 'array') return `[]${node.items ? typeOf(node.items) : 'any'}`;
  if (node.type === 'object' && !node.properties && typeof node.additionalProperties === 'object') return `map[string]${typeOf(node.additionalProperties)}`;
  return node.type ?? 'any';
}

/** Allowed values in one line: an enum, a constant, a pattern, a range, a length. */
function constraintsOf(node: SchemaNode): string {
  const parts: string[] = [];
  if (node.enum) parts.push(`one of ${node.enum.map(String).join(', ')}`);
  if (node.const !== undefined) parts.push(`always ${String(node.const)}`);
  if (node.pattern) parts.push(`matches ${node.pattern}`);
  const low = node.minimum ?? (node.exclusiveMinimum === undefined ? undefined : `>${node.exclusiveMinimum}`);
  if (low !== undefined || node.maximum !== undefined) parts.push(`${low ?? ''}..${node.maximum ?? ''}`);
  if (node.minLength !== undefined && node.minLength > 0) parts.push(`at least ${node.minLength} characters`);
  if (node.maxLength !== undefined) parts.push(`at most ${node.maxLength} characters`);
  if (node.maxItems !== undefined) parts.push(`at most ${node.maxItems} items`);
  return parts.join('; ');
}

/** Descends through arrays to their items, as kubectl does (`sliver.spec.delegations.account`). */
function objectOf(node: SchemaNode): SchemaNode {
  return node.type === 'array' && node.items ? objectOf(node.items) : node;
}

function fieldRows(node: SchemaNode, recursive: boolean, depth = 0): string[][] {
  const object = objectOf(node);
  return Object.entries(object.properties ?? {}).flatMap(([name, child]) => [
    [`${'  '.repeat(depth)}${name}`, `<${typeOf(child)}>`, object.required?.includes(name) ? 'required' : '', constraintsOf(child), child.description ?? ''],
    ...(recursive ? fieldRows(child, true, depth + 1) : []),
  ]);
}

/** `sliver`, `sliver.spec`, `sl.spec.rspec.cpu_share`: the kind, then field names. */
export function explain(path: string, options: { recursive: boolean }): string {
  const [kindName, ...fields] = path.split('.');
  const kind: Kind = resolveKind(kindName ?? '');
  let node = SCHEMAS[kind] as unknown as SchemaNode;
  let required = true;
  for (const [i, field] of fields.entries()) {
    const object = objectOf(node);
    const child = object.properties?.[field];
    if (!child) {
      const known = Object.keys(object.properties ?? {});
      throw new UsageError(`field "${field}" does not exist in ${[kind.toLowerCase(), ...fields.slice(0, i)].join('.')}${known.length ? `: it has ${known.join(', ')}` : ''}`);
    }
    required = object.required?.includes(field) ?? false;
    node = child;
  }
  let out = `KIND:     ${kind}\nVERSION:  ${API_VERSION}\n\n`;
  if (fields.length) {
    const constraints = constraintsOf(node);
    out += `FIELD:    ${fields[fields.length - 1]} <${typeOf(node)}>${required ? ', required' : ''}\n`;
    if (constraints) out += `VALUES:   ${constraints}\n`;
    out += '\n';
  }
  if (node.description) out += `DESCRIPTION:\n  ${node.description}\n\n`;
  const rows = fieldRows(node, options.recursive);
  if (rows.length) out += `FIELDS:\n${indent(table(undefined, rows))}`;
  return out;
}
