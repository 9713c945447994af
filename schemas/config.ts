// The slvd configuration file (YAML): every daemon flag, camelCased, all optional. Typed with
// ajv's JSONSchemaType so it cannot drift from the interface; flags override the file.
import type { JSONSchemaType } from 'ajv';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: readable lines on a terminal, JSON lines otherwise. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const SLVD_ROLES = ['node', 'fleet-api'] as const;
export type SlvdRole = (typeof SLVD_ROLES)[number];

export interface SlvdConfigFile {
  dataDir?: string;
  /** Start a new, empty store although the data dir holds other state (meant for one start). */
  initStore?: boolean;
  adapter?: 'sim' | 'linux' | 'vserver' | 'lxc';
  /** Filesystem root for the linux/vserver adapters (tests use a prefix). */
  root?: string;
  /** PLC's XML-RPC URL; exclusive with plcFile. */
  plc?: string;
  /** A GetSlivers answer saved as JSON; exclusive with plc. */
  plcFile?: string;
  /** No PLC: the node is driven only through its own APIs; exclusive with plc and plcFile. */
  noPlc?: boolean;
  /** A fixed auth struct passed to GetSlivers instead of node authentication (BootAuth, then a session). */
  plcAuth?: Record<string, unknown>;
  /** PEM file of the CA (or PLC's own certificate) PLC's https certificate must chain to. */
  plcCacert?: string;
  /** Accept a plain http:// PLC URL. */
  plcAllowHttp?: boolean;
  /** The node's PLC node_id (default: NODE_ID of the boot file). */
  nodeId?: number;
  /** A file holding the node key (default: NODE_KEY of the boot file). */
  nodeKeyFile?: string;
  /** The boot file with NODE_ID and NODE_KEY (default /usr/boot/plnode.txt). */
  bootFile?: string;
  plcTimeout?: number;
  period?: number;
  /** Up to this many seconds are added at random to each period, so a fleet does not poll in step. */
  jitter?: number;
  startup?: boolean;
  stagger?: number;
  /** The orphan sweep destroys managed accounts slv has no record of, instead of reporting them. */
  adoptOrphans?: boolean;
  apiSocket?: string;
  /** The REST API on this loopback TCP port too, for kubectl (0 = off). */
  apiPort?: number;
  /** The REST API over HTTPS too, for remote clients such as kubectl; callers known by bearer token (docs/kubectl.md). */
  apiHttps?: ApiHttpsConfig;
  xmlrpcSocket?: string;
  /** The original's /tmp/sliver_mgr.api, served too for old clients when slvd can own it; "none" = off. */
  xmlrpcLegacySocket?: string;
  xmlrpcPort?: number;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** Reconcile workers per controller. */
  workers?: number;
  /** Seconds between full resyncs of every object (0 = off). */
  resync?: number;
  /** Seconds the Events of a deleted object are kept after its last one (default 3600, as Kubernetes'). */
  eventRetention?: number;
  /** Controllers to run, kube-controller-manager style: `*`, `-name`, `name` (default `*`). */
  controllers?: string;
  /** Directories (inside the root) PLC's conf files may be installed in. */
  confFileDirs?: string[];
  /** linux: the cgroup holding one cgroup per sliver (absolute; default `slv` under the cpu hierarchy). */
  cgroupParent?: string;
  /** linux, vserver: the uids useradd may give new accounts (default: <root>/etc/login.defs). */
  uidRange?: UidRange;
  /** linux, vserver: the forward_api_calls binary installed as delegates' login shell (default: this checkout's native/ build). */
  delegateShell?: string;
  /** linux, vserver, lxc: network limits with tc on this device (docs/bwlimit.md); absent = not enforced. */
  bwlimit?: BwlimitConfig;
  /** lxc: where containers and images live, the id base, per-container memory (docs/adapters.md). */
  lxc?: LxcConfig;
  /** Join a fleet: `etcd://host:port[,host:port...][/root/]` (docs/fleet.md). */
  fleet?: string;
  /** `node` (default): this node's daemon; `fleet-api`: the REST API over a fleet's etcd (docs/fleet.md). */
  role?: SlvdRole;
  /** fleet-api: the fleet's etcd, `etcd://host:port[,host:port...][/root/]`. */
  store?: string;
  /** This node's name (namespace) in the fleet (default: the host name). */
  nodeName?: string;
}

export interface ApiHttpsConfig {
  /** 0 = any free port (tests). */
  port: number;
  /** The address to listen on (default: every address). */
  address?: string;
  /** PEM file: the server's certificate, then any intermediates. */
  cert: string;
  /** PEM file: the certificate's private key. */
  key: string;
  /** `token,user,uid` lines, kube-apiserver's --token-auth-file format; readable by its owner only. */
  tokenFile: string;
}

export interface LxcConfig {
  /** Containers, one directory each (default /var/lib/slv/lxc). */
  lxcPath?: string;
  /** Images, one directory each, named by vref (default /var/lib/slv/images). */
  imageDir?: string;
  /** A container's first id is idBase + xid × 65536 (default 0). */
  idBase?: number;
  /** Bytes of memory each container may use (default: no limit). */
  memoryLimit?: number;
  /** The lxc-vsh login helper installed setuid as slivers' shell (default native/lxc-vsh). */
  sliverShell?: string;
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
    initStore: { type: 'boolean', nullable: true },
    adapter: { type: 'string', enum: ['sim', 'linux', 'vserver', 'lxc'], nullable: true },
    root: path,
    plc: { type: 'string', pattern: '^https?://', nullable: true },
    plcFile: path,
    noPlc: { type: 'boolean', nullable: true },
    plcAuth: { type: 'object', required: [], additionalProperties: true, nullable: true },
    plcCacert: path,
    plcAllowHttp: { type: 'boolean', nullable: true },
    nodeId: { type: 'integer', minimum: 1, nullable: true },
    nodeKeyFile: path,
    bootFile: path,
    plcTimeout: { type: 'number', exclusiveMinimum: 0, nullable: true },
    period: { type: 'number', exclusiveMinimum: 0, nullable: true },
    jitter: seconds,
    startup: { type: 'boolean', nullable: true },
    stagger: seconds,
    adoptOrphans: { type: 'boolean', nullable: true },
    apiSocket: path,
    apiPort: { type: 'integer', minimum: 0, maximum: 65535, nullable: true },
    apiHttps: {
      type: 'object',
      additionalProperties: false,
      required: ['port', 'cert', 'key', 'tokenFile'],
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        address: { ...name, nullable: true },
        cert: name,
        key: name,
        tokenFile: name,
      },
      nullable: true,
    },
    xmlrpcSocket: path,
    xmlrpcLegacySocket: path,
    xmlrpcPort: { type: 'integer', minimum: 0, maximum: 65535, nullable: true },
    logLevel: { type: 'string', enum: [...LOG_LEVELS], nullable: true },
    logFormat: { type: 'string', enum: [...LOG_FORMATS], nullable: true },
    fleet: { type: 'string', nullable: true, pattern: '^etcds?://' },
    role: { type: 'string', enum: [...SLVD_ROLES], nullable: true },
    store: { type: 'string', nullable: true, pattern: '^etcds?://' },
    nodeName: { type: 'string', nullable: true, pattern: '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$' },
    workers: { type: 'integer', minimum: 1, maximum: 64, nullable: true },
    resync: seconds,
    eventRetention: { type: 'integer', minimum: 1, maximum: 366 * 86_400, nullable: true },
    controllers: { type: 'string', nullable: true },
    confFileDirs: { type: 'array', items: { type: 'string', pattern: '^/' }, nullable: true },
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
    lxc: {
      type: 'object',
      additionalProperties: false,
      required: [],
      properties: {
        lxcPath: { type: 'string', pattern: '^/', nullable: true },
        imageDir: { type: 'string', pattern: '^/', nullable: true },
        idBase: { type: 'integer', minimum: 0, nullable: true },
        memoryLimit: { type: 'integer', minimum: 4_194_304, nullable: true },
        sliverShell: path,
      },
      nullable: true,
    },
  },
};
