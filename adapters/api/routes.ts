// The REST API's protocol, shared by the server and the client library: paths, query parameters
// and media types (docs/api.md "Paths").
import { BadRequestError, NotFoundError } from '../../resources/errors.js';
import { matchesSelector, parseSelector, type Requirement } from '../../resources/selectors.js';
import { API_VERSION, KINDS, PLURALS, type AnyObject, type Kind } from '../../schemas/types.js';

export const API_PREFIX = `/apis/${API_VERSION}`;

/** The media types the API reads and writes. */
export const CONTENT_TYPES = {
  json: 'application/json',
  yaml: 'application/yaml',
  jsonPatch: 'application/json-patch+json',
  mergePatch: 'application/merge-patch+json',
  applyYaml: 'application/apply-patch+yaml',
  applyJson: 'application/apply-patch+json',
} as const;
/** `status` of every kind; `loans` of a Sliver: its loan list as one object; `log` of a Sliver: its init script's output (docs/api.md). */
export type Subresource = 'status' | 'loans' | 'log';

export interface ResourceRoute {
  kind: Kind;
  name?: string;
  subresource?: Subresource;
  /** `/namespaces/NS/...`: the fleet API's paths (a namespace is a node's name). */
  namespace?: string;
}

/** The fleet API's read-only `nodes` resource (docs/fleet.md): every node with its heartbeat. */
export const NODES_PLURAL = 'nodes';

const KIND_BY_PLURAL = new Map(KINDS.map((kind) => [PLURALS[kind], kind]));

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new BadRequestError(`malformed percent-encoding in the path segment ${JSON.stringify(segment.slice(0, 100))}`, { cause: error });
  }
}

/**
 * `/apis/nm.planet-lab.org/v1/[namespaces/{namespace}/]{plural}[/{name}[/status]]` (and
 * `slivers/{name}/loans`, `slivers/{name}/log`), or undefined for any other path under the group (`nodes` included).
 */
export function parseResourcePath(pathname: string): ResourceRoute | undefined {
  if (!pathname.startsWith(`${API_PREFIX}/`)) return undefined;
  let parts = pathname
    .slice(API_PREFIX.length + 1)
    .split('/')
    .map(decodePathSegment);
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length > 2) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  if (parts[0] === NODES_PLURAL && namespace === undefined) return undefined;
  const kind = KIND_BY_PLURAL.get(parts[0] ?? '');
  if (!kind) throw new NotFoundError('resource type', parts[0] ?? '');
  const subresource = parts[2];
  const known = subresource === undefined || subresource === 'status' || ((subresource === 'loans' || subresource === 'log') && kind === 'Sliver');
  if (parts.length > 3 || !known || parts.slice(1).some((p) => p === '') || namespace === '') {
    throw new NotFoundError('path', pathname);
  }
  return { kind, ...(namespace === undefined ? {} : { namespace }), ...(parts[1] ? { name: parts[1] } : {}), ...(subresource ? { subresource } : {}) };
}

export function resourcePath(kind: Kind, name?: string, subresource?: Subresource, namespace?: string): string {
  return [
    API_PREFIX,
    ...(namespace === undefined ? [] : ['namespaces', encodeURIComponent(namespace)]),
    PLURALS[kind],
    ...(name === undefined ? [] : [encodeURIComponent(name)]),
    ...(subresource ? [subresource] : []),
  ].join('/');
}

/** `/apis/nm.planet-lab.org/v1/nodes[/{name}]`: undefined for other paths, `{}` for the list. */
export function parseNodesPath(pathname: string): { name?: string } | undefined {
  const prefix = `${API_PREFIX}/${NODES_PLURAL}`;
  if (pathname === prefix) return {};
  if (!pathname.startsWith(`${prefix}/`)) return undefined;
  const name = decodePathSegment(pathname.slice(prefix.length + 1));
  if (!name || name.includes('/')) throw new NotFoundError('path', pathname);
  return { name };
}

export function nodesPath(name?: string): string {
  return [API_PREFIX, NODES_PLURAL, ...(name === undefined ? [] : [encodeURIComponent(name)])].join('/');
}

/** Kubernetes' Table media type: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (kubectl get). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const parameters = new Map(
      range
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    return parameters.get('as') === 'Table' && parameters.get('g') === 'meta.k8s.io' && (parameters.get('v') ?? 'v1') === 'v1';
  });
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** `?includeObject=` of a Table request: what each row carries besides its cells (default Metadata, as in Kubernetes). */
export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject') ?? 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw new BadRequestError(`invalid includeObject=${JSON.stringify(value)}: expected None, Metadata or Object`);
}

export function dryRunOf(query: URLSearchParams): boolean {
  const value = query.get('dryRun');
  if (value === null) return false;
  if (value === 'All') return true;
  throw new BadRequestError(`invalid dryRun=${JSON.stringify(value)}: the only supported value is All`);
}

export function flagOf(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === 'false' || value === '0') return false;
  if (value === '' || value === 'true' || value === '1') return true;
  throw new BadRequestError(`invalid ${name}=${JSON.stringify(value)}: expected true or false`);
}

export function revisionOf(query: URLSearchParams): number | undefined {
  const value = query.get('resourceVersion');
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new BadRequestError(`invalid resourceVersion=${JSON.stringify(value)}: expected a revision number`);
  return Number(value);
}

/** The scalar fields of an object by dotted path (`metadata.name`, `spec.from`, ...): what field selectors see. */
function fieldsOf(object: AnyObject): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': object.metadata.name };
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[path] = String(value);
  };
  walk(object.spec, 'spec');
  return fields;
}

export interface ObjectFilter {
  labels: Requirement[];
  fields: Requirement[];
}

/** `labelSelector` and `fieldSelector` (equality terms on `metadata.name` and `spec.*` scalars). */
export function filterOf(query: URLSearchParams): ObjectFilter {
  const parse = (name: string) => {
    try {
      return parseSelector(query.get(name) ?? '');
    } catch (error) {
      throw new BadRequestError(`invalid ${name}: ${(error as Error).message}`, { cause: error });
    }
  };
  return { labels: parse('labelSelector'), fields: parse('fieldSelector') };
}

export function matchesFilter(filter: ObjectFilter, object: AnyObject): boolean {
  return matchesSelector(filter.labels, object.metadata.labels) && (!filter.fields.length || matchesSelector(filter.fields, fieldsOf(object)));
}

/** A `Warning` header value as Kubernetes sends it: warn-code 299 (RFC 7234, "miscellaneous persistent warning"), agent `-`, the text quoted. */
export function warningHeaderValue(text: string): string {
  return `299 - "${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The texts of the `299 - "..."` warnings in a `Warning` header (Node joins repeated headers with ", "). */
export function parseWarnings(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.flatMap((value) => [...value.matchAll(/299 - "((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!.replace(/\\(.)/g, '$1')));
}
