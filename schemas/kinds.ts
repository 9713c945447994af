// One JSON Schema per kind. `tsc` checks each against its interface in schemas/types.ts;
// `npm run schemas` writes them out as schemas/*.schema.json for other tools.
import type { JSONSchemaType } from 'ajv';
import {
  EXPIRES_RANGE,
  INSTANTIATIONS,
  LOANABLE_RESOURCES,
  LOAN_REASONS,
  KINDS,
  type Delegate,
  type Delegation,
  type Kind,
  type Loan,
  type SlvEvent,
  type Sliver,
} from './types.js';
import { accountMetadata, apiVersionSchema, conditionsSchema, objectMetadata, partialRSpecSchema, rspecSchema, stringMap } from './common.js';

const keyList: JSONSchemaType<string[]> = { type: 'array', maxItems: 1024, items: { type: 'string', maxLength: 16384 } };
const accountName = { type: 'string', pattern: accountMetadata.properties.name.pattern } as const;
const extra: JSONSchemaType<Record<string, unknown>> = { type: 'object', required: [], additionalProperties: true };

const delegation: JSONSchemaType<Delegation> = {
  type: 'object',
  additionalProperties: false,
  required: ['account'],
  properties: {
    account: accountName,
    methods: { type: 'array', nullable: true, items: { type: 'string', minLength: 1 } },
  },
};

export const sliverSchema: JSONSchemaType<Sliver> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/sliver.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: apiVersionSchema,
    kind: { type: 'string', const: 'Sliver' },
    metadata: accountMetadata,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'instantiation', 'keys', 'initscript', 'rspec', 'delegations', 'timestamp', 'attributes'],
      properties: {
        type: { type: 'string', minLength: 1, maxLength: 64 },
        instantiation: { type: 'string', enum: [...INSTANTIATIONS] },
        keys: keyList,
        initscript: { type: 'string', maxLength: 1048576 },
        rspec: partialRSpecSchema,
        expires: { type: 'integer', ...EXPIRES_RANGE, nullable: true },
        delegations: { type: 'array', items: delegation },
        timestamp: { type: 'integer', minimum: 0 },
        attributes: stringMap,
        extra: { ...extra, nullable: true },
        run: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: [],
          properties: {
            state: { type: 'string', nullable: true, enum: ['Running', 'Stopped'] },
            instantiated: { type: 'boolean', nullable: true },
            recreate: { type: 'integer', nullable: true, minimum: 0 },
            start: { type: 'integer', nullable: true, minimum: 0 },
          },
        },
      },
    },
    status: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: [],
      properties: {
        observedGeneration: { type: 'integer', nullable: true },
        conditions: { ...conditionsSchema, nullable: true },
        effectiveRSpec: { ...rspecSchema, nullable: true },
        appliedRSpec: { ...rspecSchema, nullable: true },
        xid: { type: 'integer', nullable: true },
        running: { type: 'boolean', nullable: true },
        lastStartTime: { type: 'string', nullable: true },
        recreated: { type: 'integer', nullable: true },
        startsHandled: { type: 'integer', nullable: true },
        staggerStarted: { type: 'boolean', nullable: true },
        runState: { type: 'string', nullable: true, enum: ['Running', 'Stopped'] },
      },
    },
  },
};

export const delegateSchema: JSONSchemaType<Delegate> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/delegate.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: apiVersionSchema,
    kind: { type: 'string', const: 'Delegate' },
    metadata: accountMetadata,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['keys', 'timestamp'],
      properties: {
        keys: keyList,
        timestamp: { type: 'integer', minimum: 0 },
        instantiation: { type: 'string', nullable: true, enum: [...INSTANTIATIONS] },
        attributes: { ...stringMap, nullable: true },
        extra: { ...extra, nullable: true },
      },
    },
    status: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: [],
      properties: {
        observedGeneration: { type: 'integer', nullable: true },
        conditions: { ...conditionsSchema, nullable: true },
        uid: { type: 'integer', nullable: true },
      },
    },
  },
};

export const loanSchema: JSONSchemaType<Loan> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/loan.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: apiVersionSchema,
    kind: { type: 'string', const: 'Loan' },
    metadata: objectMetadata,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to', 'resource', 'amount', 'order'],
      properties: {
        from: accountName,
        to: accountName,
        resource: { type: 'string', enum: [...LOANABLE_RESOURCES] },
        amount: { type: 'integer', minimum: 0, maximum: 2 ** 53 - 1 },
        order: { type: 'integer', minimum: 0 },
      },
    },
    status: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: [],
      properties: {
        observedGeneration: { type: 'integer', nullable: true },
        granted: { type: 'boolean', nullable: true },
        reason: { type: 'string', nullable: true, enum: [...LOAN_REASONS] },
        message: { type: 'string', nullable: true },
      },
    },
  },
};

export const eventSchema: JSONSchemaType<SlvEvent> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/event.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: apiVersionSchema,
    kind: { type: 'string', const: 'Event' },
    metadata: objectMetadata,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['involvedObject', 'type', 'reason', 'message', 'count', 'firstTimestamp', 'lastTimestamp', 'source'],
      properties: {
        involvedObject: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'name'],
          properties: {
            kind: { type: 'string', enum: [...KINDS] },
            name: { type: 'string', minLength: 1, maxLength: 253 },
            uid: { type: 'string', nullable: true },
          },
        },
        type: { type: 'string', enum: ['Normal', 'Warning'] },
        reason: { type: 'string', minLength: 1, maxLength: 128 },
        message: { type: 'string', maxLength: 4096 },
        count: { type: 'integer', minimum: 1 },
        firstTimestamp: { type: 'string' },
        lastTimestamp: { type: 'string' },
        source: { type: 'string' },
      },
    },
    status: { type: 'object', nullable: true, required: [], additionalProperties: false },
  },
};

export const SCHEMAS: { [K in Kind]: JSONSchemaType<import('./types.js').KindMap[K]> } = {
  Sliver: sliverSchema,
  Delegate: delegateSchema,
  Loan: loanSchema,
  Event: eventSchema,
};
