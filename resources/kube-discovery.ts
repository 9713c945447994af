// The documents Kubernetes clients (kubectl, client-go) read before anything else: the server
// version, the API groups and versions, the resources of nm.planet-lab.org/v1, and OpenAPI v2 and
// v3 schemas of the kinds, generated from the project's JSON Schemas (schemas/kinds.ts). Pure.
import { SCHEMAS } from '../schemas/kinds.js';
import { API_GROUP, API_VERSION, CATEGORY_ALL, KINDS, PLURALS, SHORT_NAMES, type Kind } from '../schemas/types.js';
import { SLIVER_LOANS_KIND } from './loans.js';
import { SLV_VERSION } from './version.js';

const GROUP_VERSION = API_VERSION.slice(API_GROUP.length + 1);

/** `/version`: Kubernetes' version.Info (kubectl version prints gitVersion), plus slv's own names. */
export function versionInfo(platform: { nodeVersion: string; os: string; arch: string }): Record<string, string> {
  const [major = '0', minor = '0'] = SLV_VERSION.split('.');
  return {
    major,
    minor,
    gitVersion: `v${SLV_VERSION}`,
    goVersion: platform.nodeVersion,
    compiler: 'node',
    platform: `${platform.os}/${platform.arch}`,
    version: SLV_VERSION,
    apiVersion: API_VERSION,
    node: platform.nodeVersion,
  };
}

/** `/api`: the legacy core group, which slv does not serve. */
export const CORE_API_VERSIONS = { kind: 'APIVersions', apiVersion: 'v1', versions: [], serverAddressByClientCIDRs: [] };

const GROUP = {
  name: API_GROUP,
  versions: [{ groupVersion: API_VERSION, version: GROUP_VERSION }],
  preferredVersion: { groupVersion: API_VERSION, version: GROUP_VERSION },
};

/** `/apis`. */
export const API_GROUP_LIST = { kind: 'APIGroupList', apiVersion: 'v1', groups: [GROUP] };
/** `/apis/nm.planet-lab.org`. */
export const API_GROUP_DOCUMENT = { kind: 'APIGroup', apiVersion: 'v1', ...GROUP };

/** Which API is described: a node's (every kind cluster-scoped) or the fleet's (every kind namespaced by node, and `nodes`). */
export type ApiScope = 'node' | 'fleet';

/** The fleet's read-only, cluster-scoped resource of nodes (resources/fleet.ts FleetNode). */
export const NODE_RESOURCE = { name: 'nodes', singularName: 'node', kind: 'Node', shortNames: ['no'] } as const;

/** `/apis/nm.planet-lab.org/v1`: every kind with its names, verbs and the `all` category (schemas/types.ts CATEGORY_ALL). */
export function resourceList(scope: ApiScope = 'node'): unknown {
  const namespaced = scope === 'fleet';
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: API_VERSION,
    resources: [
      ...KINDS.map((kind) => ({
        name: PLURALS[kind],
        singularName: kind.toLowerCase(),
        kind,
        namespaced,
        shortNames: SHORT_NAMES[kind].slice(0, 1),
        ...(CATEGORY_ALL.includes(kind) ? { categories: ['all'] } : {}),
        verbs: kind === 'Event' ? ['get', 'list', 'watch'] : ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      })),
      ...KINDS.filter((kind) => kind !== 'Event').map((kind) => ({ name: `${PLURALS[kind]}/status`, singularName: '', kind, namespaced, verbs: ['get', 'patch', 'update'] })),
      { name: `${PLURALS.Sliver}/loans`, singularName: '', kind: SLIVER_LOANS_KIND, namespaced, verbs: ['get', 'update'] },
      // As Kubernetes lists pods/log: the kind of the parent, text as the answer. Only a node keeps init script logs.
      ...(namespaced ? [] : [{ name: `${PLURALS.Sliver}/log`, singularName: '', kind: 'Sliver', namespaced: false, verbs: ['get'] }]),
      ...(namespaced ? [{ ...NODE_RESOURCE, shortNames: [...NODE_RESOURCE.shortNames], namespaced: false, verbs: ['get', 'list'] }] : []),
    ],
  };
}

/** The OpenAPI name of a kind's schema, in Kubernetes' reversed-group style. */
export function definitionName(kind: Kind): string {
  return `${API_GROUP.split('.').reverse().join('.')}.${GROUP_VERSION}.${kind}`;
}

type Schema = Record<string, unknown>;

/**
 * A JSON Schema (ajv's draft-07 dialect) as an OpenAPI schema object: no `$id`; `const` as a
 * one-value enum; empty `required` lists dropped (OpenAPI wants at least one); `nullable` kept
 * for v3 only (v2 has no such keyword).
 */
function openApiSchema(schema: unknown, version: 2 | 3): unknown {
  if (Array.isArray(schema)) return schema.map((item) => openApiSchema(item, version));
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$id' || (key === 'nullable' && version === 2)) continue;
    if (key === 'required' && Array.isArray(value) && value.length === 0) continue;
    if (key === 'const') out.enum = [value];
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Schema).map(([name, child]) => [name, openApiSchema(child, version)]));
    else out[key] = typeof value === 'object' ? openApiSchema(value, version) : value;
  }
  return out;
}

function definitions(version: 2 | 3): Record<string, unknown> {
  return Object.fromEntries(
    KINDS.map((kind) => [definitionName(kind), { ...(openApiSchema(SCHEMAS[kind], version) as Schema), 'x-kubernetes-group-version-kind': [{ group: API_GROUP, version: GROUP_VERSION, kind }] }]),
  );
}

const INFO = { title: 'slv', version: SLV_VERSION };

/** `/openapi/v2`. */
export function openApiV2(): unknown {
  return { swagger: '2.0', info: INFO, paths: {}, definitions: definitions(2) };
}

/** Media types a PATCH takes (no strategic merge patch: kubectl falls back to merge patches). */
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

/**
 * The operations of each kind's paths: kubectl explain finds a resource's schema through the GET
 * of its path; the `fieldValidation` parameter on writes tells kubectl the server checks fields
 * (slv always rejects unknown fields, whatever the value), so it needs no client-side schema.
 */
function operationPaths(scope: ApiScope): Record<string, unknown> {
  const collectionPath = (kind: Kind) => `/apis/${API_VERSION}/${scope === 'fleet' ? 'namespaces/{namespace}/' : ''}${PLURALS[kind]}`;
  const ref = (kind: Kind) => ({ $ref: `#/components/schemas/${definitionName(kind)}` });
  const fieldValidation = { name: 'fieldValidation', in: 'query', schema: { type: 'string', enum: ['Ignore', 'Warn', 'Strict'] } };
  const operation = (kind: Kind, action: string, body?: { types: string[] }) => ({
    operationId: `${action}${kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: API_GROUP, version: GROUP_VERSION, kind },
    ...(body ? { parameters: [fieldValidation], requestBody: { content: Object.fromEntries(body.types.map((type) => [type, { schema: action === 'patch' ? { type: 'object' } : ref(kind) }])) } } : {}),
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: action === 'list' ? { type: 'object' } : ref(kind) } } } },
  });
  return Object.fromEntries(
    KINDS.flatMap((kind) => {
      const writable = kind !== 'Event';
      const collection = { get: operation(kind, 'list'), ...(writable ? { post: operation(kind, 'post', { types: ['application/json'] }) } : {}) };
      const item = {
        get: operation(kind, 'get'),
        ...(writable ? { put: operation(kind, 'put', { types: ['application/json'] }), patch: operation(kind, 'patch', { types: PATCH_TYPES }), delete: operation(kind, 'delete') } : {}),
      };
      return [
        [collectionPath(kind), collection],
        [`${collectionPath(kind)}/{name}`, item],
      ];
    }),
  );
}

/** `/openapi/v3/apis/nm.planet-lab.org/v1`. */
export function openApiV3(scope: ApiScope = 'node'): unknown {
  return { openapi: '3.0.0', info: INFO, paths: operationPaths(scope), components: { schemas: definitions(3) } };
}

/** The path of the group's OpenAPI v3 document, below `/openapi/v3/`. */
export const OPENAPI_V3_GROUP_PATH = `apis/${API_VERSION}`;

/** FNV-1a of a text, in hex: a cache key, not a checksum against tampering. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/** `/openapi/v3`: where each group version's document is; kubectl caches a document by its `hash`, so it changes with the schemas. */
export function openApiV3Index(scope: ApiScope = 'node'): unknown {
  const hash = fnv1a(JSON.stringify(openApiV3(scope)));
  return { paths: { [OPENAPI_V3_GROUP_PATH]: { serverRelativeURL: `/openapi/v3/${OPENAPI_V3_GROUP_PATH}?hash=${hash}` } } };
}
