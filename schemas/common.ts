// Schema pieces shared by every kind. Each schema is typed with ajv's JSONSchemaType against the
// TypeScript interface it describes, so `tsc` fails when the two disagree.
import type { JSONSchemaType } from 'ajv';
import {
  ACCOUNT_NAME_PATTERN,
  API_VERSION,
  OBJECT_NAME_PATTERN,
  SLIVER_NAME_PATTERN,
  RSPEC_KEYS,
  RSPEC_RANGES,
  type Condition,
  type ManagedFieldsEntry,
  type ObjectMeta,
  type PartialRSpec,
  type RSpec,
} from './types.js';

const stringMap: JSONSchemaType<Record<string, string>> = {
  type: 'object',
  required: [],
  additionalProperties: { type: 'string', maxLength: 65536 },
};

const managedFieldsEntry: JSONSchemaType<ManagedFieldsEntry> = {
  type: 'object',
  additionalProperties: false,
  required: ['manager', 'operation', 'fields'],
  properties: {
    manager: { type: 'string', minLength: 1, maxLength: 128 },
    operation: { type: 'string', enum: ['Apply', 'Update'] },
    fields: { type: 'array', items: { type: 'string' } },
    time: { type: 'string', nullable: true },
  },
};

export function metadataSchema(namePattern: string): JSONSchemaType<ObjectMeta> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: namePattern },
      namespace: { type: 'string', nullable: true, pattern: OBJECT_NAME_PATTERN },
      uid: { type: 'string', nullable: true },
      resourceVersion: { type: 'string', nullable: true },
      generation: { type: 'integer', nullable: true },
      creationTimestamp: { type: 'string', nullable: true },
      deletionTimestamp: { type: 'string', nullable: true },
      finalizers: { type: 'array', nullable: true, items: { type: 'string', minLength: 1, maxLength: 253 } },
      labels: { ...stringMap, nullable: true },
      annotations: { ...stringMap, nullable: true },
      managedFields: { type: 'array', nullable: true, items: managedFieldsEntry },
    },
  };
}

export const sliverMetadata = metadataSchema(SLIVER_NAME_PATTERN);
export const objectMetadata = metadataSchema(OBJECT_NAME_PATTERN);

/** What a name that fails the pattern is told, by pattern. */
export const NAME_RULES: Record<string, string> = {
  [ACCOUNT_NAME_PATTERN]: 'must be an account name: a lowercase letter first, then letters, digits or _, at most 32 characters',
  [SLIVER_NAME_PATTERN]:
    'must be an account name (a lowercase letter first, then letters, digits or _) or a PLC slice name (loginbase_name: lowercase letters, digits or dots, "_", then letters, digits, _ or dots), at most 64 characters',
  [OBJECT_NAME_PATTERN]: 'must start with a lowercase letter or digit, contain only letters, digits, ".", "-" or "_", end with a letter, digit or "_", and be at most 253 characters',
};

const int64 = { type: 'integer', minimum: -(2 ** 53) + 1, maximum: 2 ** 53 - 1 } as const;

/** A sliver's own rspec: each key within its range. */
export const partialRSpecSchema: JSONSchemaType<PartialRSpec> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: Object.fromEntries(RSPEC_KEYS.map((key) => [key, { type: 'integer', ...RSPEC_RANGES[key], nullable: true }])) as JSONSchemaType<PartialRSpec>['properties'],
};

/** An effective or applied rspec (status): loans may take it past the ranges. */
export const rspecSchema: JSONSchemaType<RSpec> = {
  type: 'object',
  additionalProperties: false,
  required: [...RSPEC_KEYS],
  properties: Object.fromEntries(RSPEC_KEYS.map((key) => [key, int64])) as JSONSchemaType<RSpec>['properties'],
};

export const conditionSchema: JSONSchemaType<Condition> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', minLength: 1 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string' },
    message: { type: 'string' },
    lastTransitionTime: { type: 'string' },
    observedGeneration: { type: 'integer', nullable: true },
  },
};

export const conditionsSchema: JSONSchemaType<Condition[]> = { type: 'array', items: conditionSchema };

export const apiVersionSchema = { type: 'string', const: API_VERSION } as const;
export { stringMap };
