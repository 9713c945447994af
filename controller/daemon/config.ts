// slvd's configuration: embedded defaults, then the YAML config file (--config, validated by
// schemas/config.ts), then command-line flags. Paths in the file are relative to the file; paths
// in flags are relative to the working directory.
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { checkoutPath } from '../../resources/checkout.js';
import type { ValidateFunction } from 'ajv';
import { ajv } from '../../resources/lazy-modules.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../../resources/errors.js';
import { isNodeName } from '../../resources/fleet.js';
import { slvdConfigSchema, SLVD_ROLES, type ApiHttpsConfig, type SlvdRole, type BwlimitConfig, type LxcConfig, type SlvdConfigFile, type UidRange } from '../../schemas/config.js';
import { NODE_ADAPTER_KINDS, type NodeAdapterKind } from '../../adapters/node/kinds.js';
import { DEFAULT_XMLRPC_SOCKET, LEGACY_XMLRPC_SOCKET } from '../../adapters/api/xmlrpc/sockets.js';
import { DEFAULT_BOOT_FILE } from '../../adapters/plc/node-auth.js';
import { DEFAULT_CONF_FILE_DIRS, selectControllers } from '../../resources/node-duties.js';
import { CONTROLLER_NAMES } from '../controllers/names.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../../schemas/config.js';
import { SLV_VERSION } from '../../resources/version.js';
import { yaml } from '../../resources/lazy-modules.js';

/** The value of --xmlrpc-legacy-socket (or xmlrpcLegacySocket) that turns the legacy socket off. */
const NO_SOCKET = 'none';

/** The example GetSlivers answer the sim adapter reads when no PLC is configured (`npm start`). */
export const EXAMPLE_PLC_FILE = checkoutPath('examples/getslivers.json');

export const DEFAULTS = {
  dataDir: './data',
  adapter: 'sim' as NodeAdapterKind,
  periodSeconds: 600,
  /** Today's node manager adds up to 300 s at random to each period. */
  jitterSeconds: 300,
  staggerSeconds: 3,
  /** The original Node Manager's port, so old clients find slv unchanged. */
  xmlrpcPort: 812,
  logLevel: 'info' as LogLevel,
  logFormat: 'auto' as LogFormat,
  workers: 16,
  resyncSeconds: 600,
  eventRetentionSeconds: 3600,
  plcTimeoutSeconds: 30,
};

/** How the node authenticates: as itself (BootAuth, then a session), or with a fixed struct (plcAuth). */
export type PlcAuthConfig = { kind: 'node'; nodeId?: number; keyFile?: string; bootFile: string } | { kind: 'struct'; struct: Record<string, unknown> };

export type PlcSourceConfig = { kind: 'url'; url: string; cacert?: string; allowHttp: boolean; auth: PlcAuthConfig; timeoutMs: number } | { kind: 'file'; path: string } | { kind: 'none' };

export interface SlvdConfig {
  /** Absolute. */
  dataDir: string;
  /** A new, empty store may be started although the data dir holds other state. */
  initStore: boolean;
  adapter: NodeAdapterKind;
  root?: string;
  plc: PlcSourceConfig;
  periodSeconds: number;
  jitterSeconds: number;
  startup: boolean;
  staggerSeconds: number;
  /** The orphan sweep destroys managed accounts slv has no record of (default: reports them). */
  adoptOrphans: boolean;
  apiSocket: string;
  /** The REST API's loopback TCP port; 0 = not on TCP. */
  apiPort: number;
  /** The REST API over HTTPS with bearer tokens; absent = not served. Paths absolute. */
  apiHttps?: ApiHttpsConfig;
  xmlrpcSocket: string;
  /** The original's socket, also served for old clients (absent: not served). */
  xmlrpcLegacySocket?: string;
  /** 0 = no TCP listener. */
  xmlrpcPort: number;
  /** The port came from a flag or the file (an unusable default port is skipped with a warning instead). */
  xmlrpcPortExplicit: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  workers: number;
  resyncSeconds: number;
  /** How long a deleted object's Events are kept after its last one. */
  eventRetentionSeconds: number;
  /** `--controllers` as given (checked against the known controllers). */
  controllers: string;
  confFileDirs: readonly string[];
  /** The file the configuration came from, re-read on SIGHUP. */
  configFile?: string;
  /** `fleet-api`: serve the fleet's REST API over `store` instead of running a node (docs/fleet.md). */
  role: SlvdRole;
  /** fleet-api: the fleet's etcd URL (credentials from SLV_FLEET_USER / SLV_FLEET_PASSWORD). */
  store?: string;
  /** Join this fleet as `nodeName` (credentials from SLV_FLEET_USER / SLV_FLEET_PASSWORD). */
  fleet?: { url: string; nodeName: string };
  cgroupParent?: string;
  uidRange?: UidRange;
  /** Absolute; an existing file. */
  delegateShell?: string;
  /** firstUid filled in from uidRange when the file leaves it out. */
  bwlimit?: BwlimitConfig;
  lxc?: LxcConfig;
}

/** Settings each adapter ignores: setting one is a mistake worth refusing. */
const NOT_USED_BY: Record<NodeAdapterKind, ReadonlyArray<'cgroupParent' | 'uidRange' | 'delegateShell' | 'bwlimit' | 'lxc'>> = {
  sim: ['cgroupParent', 'uidRange', 'delegateShell', 'bwlimit', 'lxc'],
  linux: ['lxc'],
  vserver: ['cgroupParent', 'lxc'],
  lxc: [],
};

/** The command line: text to print (--help, --version), or the flags and config file of a daemon to run. */
export type ParsedCommandLine = { print: string } | { flags: SlvdConfigFile; configFile?: string };

/** How slvd reports an error that stops it, on stderr. */
export function printError(error: unknown): void {
  process.stderr.write(`slvd: ${error instanceof Error ? error.message : String(error)}\n`);
}

let fileValidator: ValidateFunction<SlvdConfigFile> | undefined;
/** The config file's schema, compiled when a file is read: most starts pass flags only. */
function configFileValidator(): ValidateFunction<SlvdConfigFile> {
  return (fileValidator ??= new (ajv().Ajv)({ allErrors: true, strict: true }).compile(slvdConfigSchema));
}

function number(flag: string, integer: boolean) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || (integer && !Number.isInteger(parsed))) {
      throw new InvalidArgumentError(`${flag} expects a ${integer ? 'non-negative integer' : 'non-negative number'}, got "${value}"`);
    }
    return parsed;
  };
}

function uidRange(value: string): UidRange {
  const match = /^(\d+)-(\d+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`--uid-range expects MIN-MAX (e.g. 20000-29999), got "${value}"`);
  return { min: Number(match[1]), max: Number(match[2]) };
}

function program(): Command {
  return new Command('slvd')
    .description("slv node daemon: keeps this node's slivers in the state PLC and users ask for")
    .option('--config <file>', 'YAML configuration file (flags override it; re-read on SIGHUP)')
    .option('--data-dir <dir>', `where the store, locks and state live (default ${DEFAULTS.dataDir})`)
    .option('--init-store', 'start a new, empty store although the data dir holds other state (store.db missing or empty); only an empty data dir gets one without it')
    .addOption(new Option('--adapter <kind>', `node adapter (default ${DEFAULTS.adapter})`).choices([...NODE_ADAPTER_KINDS]))
    .option('--root <dir>', 'filesystem root for the linux and vserver adapters')
    .option('--cgroup-parent <dir>', 'linux: the cgroup holding one cgroup per sliver (default slv under the cpu hierarchy)')
    .option('--uid-range <min-max>', 'linux, vserver: uids for new accounts (default: <root>/etc/login.defs)', uidRange)
    .option('--delegate-shell <file>', "linux, vserver: the forward_api_calls binary installed as delegates' login shell (default: native/forward_api_calls)")
    .option('--lxc-path <dir>', 'lxc: where containers live (default /var/lib/slv/lxc)')
    .option('--lxc-images <dir>', 'lxc: where images live, one directory per vref (default /var/lib/slv/images)')
    .option('--lxc-id-base <n>', "lxc: a container's first id is this + xid × 65536 (default 0)", number('--lxc-id-base', true))
    .option('--plc <url>', 'PLC XML-RPC URL (https) to poll with GetSlivers')
    .option('--plc-cacert <file>', "PEM CA (or PLC certificate) that PLC's https certificate must chain to (default: system CAs)")
    .option('--plc-allow-http', 'accept a plain http:// --plc URL')
    .option('--node-id <id>', `this node's PLC node_id (default: NODE_ID in ${DEFAULT_BOOT_FILE})`, number('--node-id', true))
    .option('--node-key-file <file>', `file holding the node key (default: NODE_KEY in ${DEFAULT_BOOT_FILE})`)
    .option('--boot-file <file>', `the node's boot file with NODE_ID and NODE_KEY (default ${DEFAULT_BOOT_FILE})`)
    .option('--plc-file <file>', 'read GetSlivers answers from this JSON file instead of PLC (default for the sim adapter: the example)')
    .option('--no-plc', 'no PLC: the node is driven only through its own APIs')
    .option('--period <seconds>', `seconds between PLC polls (default ${DEFAULTS.periodSeconds})`, number('--period', false))
    .option('--jitter <seconds>', `up to this many seconds added at random to each period (default ${DEFAULTS.jitterSeconds})`, number('--jitter', false))
    .option('-s, --startup', 'start every enabled sliver after the first sync, staggered')
    .option('--controllers <list>', "controllers to run: * = the default set, -name leaves one out, name adds one (e.g. '*,-conf-files')")
    .option('--conf-file-dirs <dirs>', `comma list of directories PLC's conf files may go to (default ${DEFAULT_CONF_FILE_DIRS.join(',')})`)
    .option('--stagger <seconds>', `delay between staggered starts (default ${DEFAULTS.staggerSeconds})`, number('--stagger', false))
    .option('--adopt-orphans', 'destroy accounts with a managed shell that slv has no record of (default: report them in an Event)')
    .option('--api-socket <path>', 'REST API Unix socket (default <data-dir>/api.sock)')
    .option('--api-port <port>', 'also serve the REST API on this TCP port on 127.0.0.1, for kubectl; 0 = off (default 0)', number('--api-port', true))
    .option('--xmlrpc-socket <path>', `XML-RPC shim Unix socket, mode 0666 (default ${DEFAULT_XMLRPC_SOCKET} as root, else <data-dir>/sliver_mgr.api)`)
    .option('--xmlrpc-legacy-socket <path>', `the original's socket, also served for old clients when slvd can own it safely; none = off (default ${LEGACY_XMLRPC_SOCKET} as root, else none)`)
    .option('--xmlrpc-port <port>', 'XML-RPC shim TCP port on 127.0.0.1, 0 = off (default 812, as the original; skipped with a warning when not root)', number('--xmlrpc-port', true))
    .option('--fleet <url>', 'join a fleet: etcd://host:port[,host:port...][/root/] (docs/fleet.md)')
    .addOption(new Option('--role <role>', 'node: run this node (default); fleet-api: serve the REST API of a whole fleet over --store (docs/fleet.md)').choices([...SLVD_ROLES]))
    .option('--store <url>', "fleet-api: the fleet's etcd, etcd://host:port[,host:port...][/root/]")
    .option('--node-name <name>', "this node's name in the fleet (default: the host name)")
    .addOption(new Option('--log-level <level>', `log level (default ${DEFAULTS.logLevel})`).choices([...LOG_LEVELS]))
    .addOption(new Option('--log-format <format>', 'auto: readable lines on a terminal, JSON lines otherwise (default auto)').choices([...LOG_FORMATS]))
    .version(SLV_VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
}

/** Flags as given (absent ones stay absent, so the file and defaults can fill them). */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const command = program();
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.code === 'commander.helpDisplayed') return { print: command.helpInformation() };
    if (error instanceof CommanderError && error.code === 'commander.version') return { print: `slvd ${SLV_VERSION}\n` };
    if (error instanceof CommanderError) throw new UsageError(error.message.replace(/^error: /, ''), { cause: error });
    throw error;
  }
  const o = command.opts<Record<string, unknown>>();
  const cwd = process.cwd();
  const flags: SlvdConfigFile = {};
  const abs = (value: unknown) => resolve(cwd, value as string);
  if (o.dataDir !== undefined) flags.dataDir = abs(o.dataDir);
  if (o.initStore !== undefined) flags.initStore = true;
  if (o.adapter !== undefined) flags.adapter = o.adapter as NodeAdapterKind;
  if (o.root !== undefined) flags.root = abs(o.root);
  if (o.cgroupParent !== undefined) flags.cgroupParent = abs(o.cgroupParent);
  if (o.uidRange !== undefined) flags.uidRange = o.uidRange as UidRange;
  if (o.delegateShell !== undefined) flags.delegateShell = abs(o.delegateShell);
  const lxc: LxcConfig = {
    ...(o.lxcPath !== undefined ? { lxcPath: abs(o.lxcPath) } : {}),
    ...(o.lxcImages !== undefined ? { imageDir: abs(o.lxcImages) } : {}),
    ...(o.lxcIdBase !== undefined ? { idBase: o.lxcIdBase as number } : {}),
  };
  if (Object.keys(lxc).length > 0) flags.lxc = lxc;
  // Commander reads --no-plc as plc=false.
  if (o.plc === false) flags.noPlc = true;
  else if (o.plc !== undefined) flags.plc = o.plc as string;
  if (o.plcFile !== undefined) flags.plcFile = abs(o.plcFile);
  if (o.plcCacert !== undefined) flags.plcCacert = abs(o.plcCacert);
  if (o.plcAllowHttp !== undefined) flags.plcAllowHttp = true;
  if (o.nodeId !== undefined) flags.nodeId = o.nodeId as number;
  if (o.nodeKeyFile !== undefined) flags.nodeKeyFile = abs(o.nodeKeyFile);
  if (o.bootFile !== undefined) flags.bootFile = abs(o.bootFile);
  if (o.period !== undefined) flags.period = o.period as number;
  if (o.jitter !== undefined) flags.jitter = o.jitter as number;
  if (o.startup !== undefined) flags.startup = true;
  if (o.adoptOrphans !== undefined) flags.adoptOrphans = true;
  if (o.stagger !== undefined) flags.stagger = o.stagger as number;
  if (o.controllers !== undefined) flags.controllers = o.controllers as string;
  if (o.confFileDirs !== undefined) flags.confFileDirs = (o.confFileDirs as string).split(',').filter((dir) => dir !== '');
  if (o.apiSocket !== undefined) flags.apiSocket = abs(o.apiSocket);
  if (o.apiPort !== undefined) flags.apiPort = o.apiPort as number;
  if (o.xmlrpcSocket !== undefined) flags.xmlrpcSocket = abs(o.xmlrpcSocket);
  if (o.xmlrpcLegacySocket !== undefined) flags.xmlrpcLegacySocket = o.xmlrpcLegacySocket === NO_SOCKET ? NO_SOCKET : abs(o.xmlrpcLegacySocket);
  if (o.xmlrpcPort !== undefined) flags.xmlrpcPort = o.xmlrpcPort as number;
  if (o.logLevel !== undefined) flags.logLevel = o.logLevel as LogLevel;
  if (o.logFormat !== undefined) flags.logFormat = o.logFormat as LogFormat;
  if (o.fleet !== undefined) flags.fleet = o.fleet as string;
  if (o.nodeName !== undefined) flags.nodeName = o.nodeName as string;
  if (o.role !== undefined) flags.role = o.role as SlvdRole;
  if (o.store !== undefined) flags.store = o.store as string;
  if (flags.period === 0) throw new UsageError('--period must be more than 0 seconds');
  if (flags.nodeId === 0) throw new UsageError('--node-id must be a PLC node_id (1 or more)');
  if (flags.apiPort !== undefined && flags.apiPort > 65535) throw new UsageError(`--api-port ${flags.apiPort} is not a port (0-65535)`);
  if (flags.xmlrpcPort !== undefined && flags.xmlrpcPort > 65535) throw new UsageError(`--xmlrpc-port ${flags.xmlrpcPort} is not a port (0-65535)`);
  return { flags, ...(o.config !== undefined ? { configFile: abs(o.config) } : {}) };
}

/** Read and validate a config file; its relative paths become absolute (relative to the file). */
export function loadConfigFile(file: string): SlvdConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config file ${file}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = yaml().parse(text) ?? {};
  } catch (error) {
    throw new UsageError(`config file ${file} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const validateFile = configFileValidator();
  if (!validateFile(parsed)) {
    const problems = (validateFile.errors ?? []).map((e) => {
      const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
      if (e.keyword === 'additionalProperties') return `unknown setting "${field ? `${field}.` : ''}${String(e.params.additionalProperty)}"`;
      return `${field || '(top level)'} ${e.message ?? 'is invalid'}${e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`;
    });
    throw new UsageError(`config file ${file} is invalid: ${problems.join('; ')}`);
  }
  const base = dirname(file);
  const config: SlvdConfigFile = { ...parsed };
  for (const key of ['dataDir', 'root', 'plcFile', 'plcCacert', 'nodeKeyFile', 'bootFile', 'apiSocket', 'xmlrpcSocket', 'xmlrpcLegacySocket', 'delegateShell'] as const) {
    const value = config[key];
    if (value !== undefined && value !== NO_SOCKET) config[key] = resolve(base, value);
  }
  if (config.lxc?.sliverShell !== undefined) config.lxc = { ...config.lxc, sliverShell: resolve(base, config.lxc.sliverShell) };
  const { apiHttps } = config;
  if (apiHttps) config.apiHttps = { ...apiHttps, cert: resolve(base, apiHttps.cert), key: resolve(base, apiHttps.key), tokenFile: resolve(base, apiHttps.tokenFile) };
  return config;
}

/** A configured program must be there at start: installing nothing would leave delegates without a shell. */
function assertProgramFile(setting: string, file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (error) {
    throw new UsageError(`${setting} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { cause: error });
  }
  if (!isFile) throw new UsageError(`${setting} ${file} is not a regular file`);
}

/** plcAuth replaces node authentication; giving both is a mistake worth refusing. */
function plcAuthConfig(merged: SlvdConfigFile): PlcAuthConfig {
  const nodeSettings = (['nodeId', 'nodeKeyFile', 'bootFile'] as const).filter((key) => merged[key] !== undefined);
  if (merged.plcAuth !== undefined) {
    if (nodeSettings.length > 0) throw new UsageError(`plcAuth replaces node authentication: drop ${nodeSettings.join(', ')} or plcAuth`);
    return { kind: 'struct', struct: merged.plcAuth };
  }
  return {
    kind: 'node',
    ...(merged.nodeId !== undefined ? { nodeId: merged.nodeId } : {}),
    ...(merged.nodeKeyFile !== undefined ? { keyFile: merged.nodeKeyFile } : {}),
    bootFile: merged.bootFile ?? DEFAULT_BOOT_FILE,
  };
}

/** Defaults, then the file, then the flags. */
export function resolveConfig(flags: SlvdConfigFile, file: SlvdConfigFile = {}, configFile?: string): SlvdConfig {
  const plcChoices = (settings: SlvdConfigFile) => [settings.plc !== undefined, settings.plcFile !== undefined, settings.noPlc === true].filter(Boolean).length;
  if (plcChoices(flags) > 1) throw new UsageError('choose one of --plc URL, --plc-file FILE and --no-plc');
  if (plcChoices(file) > 1) throw new UsageError('the config file sets more than one of plc, plcFile and noPlc; choose one');
  const merged: SlvdConfigFile = { ...file, ...flags, ...(file.lxc || flags.lxc ? { lxc: { ...file.lxc, ...flags.lxc } } : {}) };
  // A PLC source chosen on the command line replaces the file's choice of any kind.
  if (plcChoices(flags) > 0) {
    for (const key of ['plc', 'plcFile', 'noPlc'] as const) if (flags[key] === undefined) delete merged[key];
  }
  const dataDir = resolve(merged.dataDir ?? DEFAULTS.dataDir);
  const role = merged.role ?? 'node';
  if (role === 'fleet-api') {
    if (merged.store === undefined) throw new UsageError("the fleet-api role needs the fleet's etcd: --store etcd://host:port[,host:port...][/root/]");
    if (merged.fleet !== undefined) throw new UsageError('the fleet-api role serves the fleet; --fleet joins a node to one: choose one');
  } else if (merged.store !== undefined) {
    throw new UsageError('--store is for the fleet-api role (a node keeps its store in <data-dir>/store.db): add --role fleet-api, or --fleet URL to join a fleet');
  }
  const adapter = merged.adapter ?? DEFAULTS.adapter;
  // The example answer creates accounts like princeton_codeen: harmless on the sim node, never on a real one.
  if (adapter !== 'sim' && plcChoices(merged) === 0) {
    throw new UsageError(`the ${adapter} adapter acts on this node's accounts: name the PLC source with --plc URL, --plc-file FILE or --no-plc (only the sim adapter defaults to the example answer)`);
  }
  const plc: PlcSourceConfig =
    merged.plc !== undefined
      ? {
          kind: 'url',
          url: merged.plc,
          ...(merged.plcCacert !== undefined ? { cacert: merged.plcCacert } : {}),
          allowHttp: merged.plcAllowHttp ?? false,
          auth: plcAuthConfig(merged),
          timeoutMs: (merged.plcTimeout ?? DEFAULTS.plcTimeoutSeconds) * 1000,
        }
      : merged.noPlc
        ? { kind: 'none' }
        : { kind: 'file', path: merged.plcFile ?? EXAMPLE_PLC_FILE };
  const unused = NOT_USED_BY[adapter].filter((key) => merged[key] !== undefined);
  if (unused.length > 0) throw new UsageError(`${unused.join(', ')} ${unused.length > 1 ? 'do' : 'does'} not apply to the ${adapter} adapter`);
  const { uidRange, bwlimit } = merged;
  if (uidRange && uidRange.min > uidRange.max) throw new UsageError(`uidRange ${uidRange.min}-${uidRange.max} is empty: min must not be above max`);
  if (merged.delegateShell !== undefined) assertProgramFile('delegateShell', merged.delegateShell);
  const controllers = merged.controllers ?? '*';
  selectControllers(controllers, CONTROLLER_NAMES, CONTROLLER_NAMES); // a typo stops slvd here, not a duty silently
  const isRoot = process.getuid?.() === 0;
  const legacySocket = merged.xmlrpcLegacySocket ?? (isRoot ? LEGACY_XMLRPC_SOCKET : undefined);
  const nodeName = merged.nodeName ?? hostname().toLowerCase();
  if (merged.fleet !== undefined && !isNodeName(nodeName)) {
    throw new UsageError(`node name "${nodeName}" must be lowercase letters, digits, "." or "-" (set --node-name)`);
  }
  return {
    dataDir,
    initStore: merged.initStore ?? false,
    adapter,
    ...(merged.root !== undefined ? { root: merged.root } : {}),
    ...(merged.cgroupParent !== undefined ? { cgroupParent: merged.cgroupParent } : {}),
    ...(uidRange ? { uidRange } : {}),
    ...(merged.delegateShell !== undefined ? { delegateShell: merged.delegateShell } : {}),
    ...(merged.lxc ? { lxc: merged.lxc } : {}),
    ...(bwlimit ? { bwlimit: { ...bwlimit, ...(bwlimit.firstUid === undefined && uidRange ? { firstUid: uidRange.min } : {}) } } : {}),
    plc,
    periodSeconds: merged.period ?? DEFAULTS.periodSeconds,
    jitterSeconds: merged.jitter ?? DEFAULTS.jitterSeconds,
    startup: merged.startup ?? false,
    staggerSeconds: merged.stagger ?? DEFAULTS.staggerSeconds,
    adoptOrphans: merged.adoptOrphans ?? false,
    apiSocket: merged.apiSocket ?? resolve(dataDir, 'api.sock'),
    apiPort: merged.apiPort ?? 0,
    ...(merged.apiHttps ? { apiHttps: merged.apiHttps } : {}),
    // Root serves from a directory only root may write; anyone else from the data dir.
    xmlrpcSocket: merged.xmlrpcSocket ?? (isRoot ? DEFAULT_XMLRPC_SOCKET : resolve(dataDir, 'sliver_mgr.api')),
    ...(legacySocket !== undefined && legacySocket !== NO_SOCKET ? { xmlrpcLegacySocket: legacySocket } : {}),
    xmlrpcPort: merged.xmlrpcPort ?? DEFAULTS.xmlrpcPort,
    xmlrpcPortExplicit: merged.xmlrpcPort !== undefined,
    logLevel: merged.logLevel ?? DEFAULTS.logLevel,
    logFormat: merged.logFormat ?? DEFAULTS.logFormat,
    workers: merged.workers ?? DEFAULTS.workers,
    resyncSeconds: merged.resync ?? DEFAULTS.resyncSeconds,
    eventRetentionSeconds: merged.eventRetention ?? DEFAULTS.eventRetentionSeconds,
    controllers,
    confFileDirs: merged.confFileDirs ?? DEFAULT_CONF_FILE_DIRS,
    ...(configFile !== undefined ? { configFile } : {}),
    ...(merged.fleet !== undefined ? { fleet: { url: merged.fleet, nodeName } } : {}),
    role,
    ...(merged.store !== undefined ? { store: merged.store } : {}),
  };
}
