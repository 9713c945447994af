// The slvd configuration file (YAML): every daemon flag, camelCased, all optional. Typed with
// ajv's JSONSchemaType so it cannot drift from the interface; flags override the file.
import type { JSONSchemaType } from 'ajv';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SlvdConfigFile {
  dataDir?: string;
  adapter?: 'sim' | 'linux' | 'vserver';
  /** Filesystem root for the linux/vserver adapters (tests use a prefix). */
  root?: string;
  /** PLC's XML-RPC URL; exclusive with plcFile. */
  plc?: string;
  /** A GetSlivers answer saved as JSON; exclusive with plc. */
  plcFile?: string;
  /** The auth struct passed to GetSlivers. */
  plcAuth?: Record<string, unknown>;
  plcTimeout?: number;
  period?: number;
  startup?: boolean;
  stagger?: number;
  apiSocket?: string;
  xmlrpcSocket?: string;
  xmlrpcPort?: number;
  logLevel?: LogLevel;
  /** Reconcile workers per controller. */
  workers?: number;
  /** Seconds between full resyncs of every object (0 = off). */
  resync?: number;
}

const path = { type: 'string', minLength: 1, nullable: true } as const;
const seconds = { type: 'number', minimum: 0, nullable: true } as const;

export const slvdConfigSchema: JSONSchemaType<SlvdConfigFile> = {
  $id: 'https://nm.planet-lab.org/schemas/v1/slvd-config.json',
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    dataDir: path,
    adapter: { type: 'string', enum: ['sim', 'linux', 'vserver'], nullable: true },
    root: path,
    plc: { type: 'string', pattern: '^https?://', nullable: true },
    plcFile: path,
    plcAuth: { type: 'object', required: [], additionalProperties: true, nullable: true },
    plcTimeout: { type: 'number', exclusiveMinimum: 0, nullable: true },
    period: { type: 'number', exclusiveMinimum: 0, nullable: true },
    startup: { type: 'boolean', nullable: true },
    stagger: seconds,
    apiSocket: path,
    xmlrpcSocket: path,
    xmlrpcPort: { type: 'integer', minimum: 0, maximum: 65535, nullable: true },
    logLevel: { type: 'string', enum: [...LOG_LEVELS], nullable: true },
    workers: { type: 'integer', minimum: 1, maximum: 64, nullable: true },
    resync: seconds,
  },
};
