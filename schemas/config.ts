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
  /** No PLC: the node is driven only through its own APIs; exclusive with plc and plcFile. */
  noPlc?: boolean;
  /** The auth struct passed to GetSlivers. */
  plcAuth?: Record<string, unknown>;
  plcTimeout?: number;
  period?: number;
  startup?: boolean;
  stagger?: number;
  /** The orphan sweep destroys managed accounts slv has no record of, instead of reporting them. */
  adoptOrphans?: boolean;
  apiSocket?: string;
  xmlrpcSocket?: string;
  xmlrpcPort?: number;
  logLevel?: LogLevel;
  /** Reconcile workers per controller. */
  workers?: number;
  /** Seconds between full resyncs of every object (0 = off). */
  resync?: number;
  /** linux: the cgroup holding one cgroup per sliver (absolute; default `slv` under the cpu hierarchy). */
  cgroupParent?: string;
  /** linux, vserver: the uids useradd may give new accounts (default: <root>/etc/login.defs). */
  uidRange?: UidRange;
  /** linux, vserver: the forward_api_calls binary installed as delegates' login shell (default: this checkout's native/ build). */
  delegateShell?: string;
  /** linux, vserver: network limits with tc on this device (docs/bwlimit.md); absent = not enforced. */
  bwlimit?: BwlimitConfig;
}

export interface UidRange {
  min: number;
  max: number;
}

/** The bandwidth limiter's options (adapters/bwlimit), rates in bit/s. */
export interface BwlimitConfig {
  device: string;
  netns?: string;
  nodeCap: number;
  exemptDestinations?: string[];
  exemptCap?: number;
  /** Default: uidRange.min when set, else 1000. */
  firstUid?: number;
  nftTable?: string;
}

const path = { type: 'string', minLength: 1, nullable: true } as const;
const seconds = { type: 'number', minimum: 0, nullable: true } as const;
const uid = { type: 'integer', minimum: 1, maximum: 4_294_967_294 } as const;
const bitsPerSecond = { type: 'integer', minimum: 8 } as const;
const name = { type: 'string', minLength: 1 } as const;

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
    noPlc: { type: 'boolean', nullable: true },
    plcAuth: { type: 'object', required: [], additionalProperties: true, nullable: true },
    plcTimeout: { type: 'number', exclusiveMinimum: 0, nullable: true },
    period: { type: 'number', exclusiveMinimum: 0, nullable: true },
    startup: { type: 'boolean', nullable: true },
    stagger: seconds,
    adoptOrphans: { type: 'boolean', nullable: true },
    apiSocket: path,
    xmlrpcSocket: path,
    xmlrpcPort: { type: 'integer', minimum: 0, maximum: 65535, nullable: true },
    logLevel: { type: 'string', enum: [...LOG_LEVELS], nullable: true },
    workers: { type: 'integer', minimum: 1, maximum: 64, nullable: true },
    resync: seconds,
    cgroupParent: { type: 'string', pattern: '^/', nullable: true },
    uidRange: { type: 'object', additionalProperties: false, required: ['min', 'max'], properties: { min: uid, max: uid }, nullable: true },
    delegateShell: path,
    bwlimit: {
      type: 'object',
      additionalProperties: false,
      required: ['device', 'nodeCap'],
      properties: {
        device: name,
        netns: { ...name, nullable: true },
        nodeCap: bitsPerSecond,
        exemptDestinations: { type: 'array', items: name, nullable: true },
        exemptCap: { ...bitsPerSecond, nullable: true },
        firstUid: { ...uid, nullable: true },
        nftTable: { ...name, nullable: true },
      },
      nullable: true,
    },
  },
};
