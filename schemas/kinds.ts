// One JSON Schema per kind. `tsc` checks each against its interface in schemas/types.ts;
// `npm run schemas` writes them out as schemas/*.schema.json for other tools.
import type { JSONSchemaType } from 'ajv';
import {
  EXPIRES_RANGE,
  INSTANTIATIONS,
  LOANABLE_RESOURCES,
  LOAN_REASONS,
  KINDS,
  RESERVATION_POLICIES,
  type ConfFile,
  type Delegate,
  type Delegation,
  type Kind,
  type Loan,
  type NodeConfig,
  type SlvEvent,
  type Sliver,
} from './types.js';
import { DESCRIPTIONS } from './descriptions.js';
import { apiVersionSchema, conditionsSchema, objectMetadata, partialRSpecSchema, rspecSchema, sliverMetadata, stringMap } from './common.js';

const keyList: JSONSchemaType<string[]> = { type: 'array', maxItems: 1024, items: { type: 'string', maxLength: 16384 } };
const sliverName = { type: 'string', pattern: sliverMetadata.properties.name.pattern } as const;
const extra: JSONSchemaType<Record<string, unknown>> = { type: 'object', required: [], additionalProperties: true };

const delegation: JSONSchemaType<Delegation> = {
  type: 'object',
  additionalProperties: false,
  required: ['account'],
  properties: {
    account: sliverName,
    methods: { type: 'array', nullable: true, items: { type: 'string', minLength: 1 } },
  },
};

const sliverSchema: JSONSchemaType<Sliver> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/sliver.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: apiVersionSchema,
    kind: { type: 'string', const: 'Sliver' },
    metadata: sliverMetadata,
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
        vref: { type: 'string', nullable: true, minLength: 1, maxLength: 256 },
        cpuCores: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['count', 'bestEffort'],
          properties: { count: { type: 'integer', minimum: 0, maximum: 4096 }, bestEffort: { type: 'boolean' } },
        },
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
        leaseHeld: { type: 'boolean', nullable: true },
        leaseUntil: { type: 'string', nullable: true },
        leaseCpuMin: { type: 'integer', nullable: true, minimum: 0 },
        cpus: { type: 'string', nullable: true },
        dailyBandwidth: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['day', 'sentBytes', 'sentExemptBytes', 'counters', 'resetAt'],
          properties: {
            day: { type: 'string' },
            sentBytes: { type: 'integer', minimum: 0 },
            sentExemptBytes: { type: 'integer', minimum: 0 },
            counters: {
              type: 'object',
              additionalProperties: false,
              required: ['bytes', 'exemptBytes'],
              properties: { bytes: { type: 'integer', minimum: 0 }, exemptBytes: { type: 'integer', minimum: 0 } },
            },
            netMaxCap: { type: 'integer', nullable: true, minimum: 8 },
            net2MaxCap: { type: 'integer', nullable: true, minimum: 8 },
            resetAt: { type: 'string' },
          },
        },
      },
    },
  },
};

const delegateSchema: JSONSchemaType<Delegate> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/delegate.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: apiVersionSchema,
    kind: { type: 'string', const: 'Delegate' },
    metadata: sliverMetadata,
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

const loanSchema: JSONSchemaType<Loan> = {
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
        from: sliverName,
        to: sliverName,
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

const eventSchema: JSONSchemaType<SlvEvent> = {
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

const confFile: JSONSchemaType<ConfFile> = {
  type: 'object',
  additionalProperties: false,
  required: ['dest', 'source', 'permissions', 'owner', 'group', 'preinstallCmd', 'postinstallCmd', 'errorCmd', 'ignoreCmdErrors', 'alwaysUpdate'],
  properties: {
    dest: { type: 'string', pattern: '^/' },
    source: { type: 'string' },
    permissions: { type: 'string', pattern: '^[0-7]{3,4}$' },
    owner: { type: 'string', minLength: 1 },
    group: { type: 'string', minLength: 1 },
    preinstallCmd: { type: 'string' },
    postinstallCmd: { type: 'string' },
    errorCmd: { type: 'string' },
    ignoreCmdErrors: { type: 'boolean' },
    alwaysUpdate: { type: 'boolean' },
  },
};

const nodeConfigSchema: JSONSchemaType<NodeConfig> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/nodeconfig.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: apiVersionSchema,
    kind: { type: 'string', const: 'NodeConfig' },
    metadata: objectMetadata,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['timestamp', 'accounts', 'confFiles', 'reservationPolicy', 'leases', 'groups'],
      properties: {
        timestamp: { type: 'integer', minimum: 0 },
        nodeId: { type: 'integer', nullable: true },
        hostname: { type: 'string', nullable: true },
        bandwidthCap: { type: 'integer', minimum: 8, nullable: true },
        accounts: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['name', 'keys'], properties: { name: { type: 'string', minLength: 1, maxLength: 254 }, keys: keyList } },
        },
        confFiles: { type: 'array', items: confFile },
        reservationPolicy: { type: 'string', enum: [...RESERVATION_POLICIES] },
        leases: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['sliceId', 'from', 'until'],
            properties: { sliceId: { type: 'integer' }, sliver: { ...sliverName, nullable: true }, from: { type: 'integer' }, until: { type: 'integer' } },
          },
        },
        groups: { type: 'array', items: { type: 'string' } },
        leaseGranularity: { type: 'integer', minimum: 1, nullable: true },
      },
    },
    status: {
      type: 'object',
      nullable: true,
      required: [],
      additionalProperties: false,
      properties: {
        confFiles: {
          type: 'array',
          nullable: true,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['dest', 'outcome'],
            properties: {
              dest: { type: 'string' },
              outcome: { type: 'string', enum: ['installed', 'unchanged', 'refused', 'fetch-failed', 'preinstall-failed', 'install-failed', 'postinstall-failed'] },
              message: { type: 'string', nullable: true },
              lastInstalled: { type: 'string', nullable: true },
            },
          },
        },
      },
    },
  },
};

/** A copy of `schema` with each field's description (schemas/descriptions.ts) set; an array's items share its path. */
function described<T>(schema: T, descriptions: Record<string, string>, path = ''): T {
  const node = { ...(schema as Record<string, unknown>) };
  const description = descriptions[path];
  if (description !== undefined) node.description = description;
  if (node.type === 'array' && node.items) node.items = described(node.items, descriptions, path);
  const properties = node.properties as Record<string, unknown> | undefined;
  if (properties) node.properties = Object.fromEntries(Object.entries(properties).map(([name, child]) => [name, described(child, descriptions, path ? `${path}.${name}` : name)]));
  return node as T;
}

export const SCHEMAS: { [K in Kind]: JSONSchemaType<import('./types.js').KindMap[K]> } = {
  Sliver: described(sliverSchema, DESCRIPTIONS.Sliver),
  Delegate: described(delegateSchema, DESCRIPTIONS.Delegate),
  Loan: described(loanSchema, DESCRIPTIONS.Loan),
  Event: described(eventSchema, DESCRIPTIONS.Event),
  NodeConfig: described(nodeConfigSchema, DESCRIPTIONS.NodeConfig),
};
