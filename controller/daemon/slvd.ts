// slvd, the node daemon: composes the store, the node adapter, the controllers, the PLC poller and
// the two API servers, and owns their lifecycle: each part is registered as it starts and closed in
// reverse order. SIGTERM/SIGINT drain and exit 0, SIGHUP re-reads the config file. Readiness goes
// to <data-dir>/status.json (kept current by a runnable that follows the cache) and the API's /readyz.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from '../../adapters/support/prometheus.js';
import { registerSliverMetrics } from '../controllers/sliver-metrics.js';
import { startApiServer } from '../../adapters/api/rest/server.js';
import { ApiHttps } from './api-https.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { STATUS_FILE, StatusFile, type DaemonPhase } from './status-file.js';
import { createBandwidthLimiter } from '../../adapters/net/bwlimit/index.js';
import { createNodeAdapter } from '../../adapters/node/index.js';
import type { BandwidthLimiter } from '../../adapters/node/contract.js';
import {
  NodeAuthSource,
  PlcClient,
  PlcStateFile,
  PlcSync,
  SessionFile,
  fileSource,
  readNodeCredentials,
  structAuthSource,
  type GetSliversSource,
  type PlcSyncResult,
} from '../../adapters/plc/index.js';
import { openSqliteStore } from '../../adapters/store/sqlite.js';
import { startXmlRpcShim, type SocketReport } from '../../adapters/api/xmlrpc/server.js';
import { ConnectionBudget, connectionLimitsFor } from '../../adapters/api/http-server.js';
import { native } from '../../adapters/support/native.js';
import { ExitCodes, exitCodeFor, InvariantError } from '../../resources/errors.js';
import type { Store } from '../../adapters/store/contract.js';
import { Disposables, Lifecycle } from '../../adapters/support/lifecycle.js';
import type { Condition } from '../../schemas/types.js';
import { loadConfigFile, printError, resolveConfig, type PlcSourceConfig, type SlvdConfig } from './config.js';
import { CONTROLLER_NAMES, setupControllers, type DutiesOptions } from '../controllers/index.js';
import { NodeFiles } from '../../adapters/node/posix/node-files.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../../adapters/support/exec.js';
import { selectControllers } from '../../resources/node-duties.js';
import { createLogger } from './log.js';
import { checkStoreFile, dataDirEntries } from './store-file.js';
import { PlcPoller, type PollTiming } from './plc-poller.js';
import { Manager, Periodic, systemClock } from '../runtime/index.js';
import type { SlvdConfigFile } from '../../schemas/config.js';

export const STORE_FILE = 'store.db';
export const PLC_STATE_FILE = 'plc-state.json';
/** The PLC session key (mode 0600), as today's node manager keeps /etc/planetlab/session. */
export const PLC_SESSION_FILE = 'plc-session';
/**
 * What a data dir holds once slvd has run in it (besides store.db): any of these without a usable
 * store.db means the store was lost, not that the node is new. The lock, sockets and files of other
 * programs (a config file kept there) are not state.
 */
const NODE_STATE_ENTRIES = new Set([`${STORE_FILE}-wal`, `${STORE_FILE}-shm`, PLC_STATE_FILE, PLC_SESSION_FILE, STATUS_FILE, 'sim-node.json', 'sim-node.journal', 'initscripts']);

/** After a bug (an unhandled failure) the orderly stop gets this long before the process exits anyway. */
const STOP_AFTER_BUG_MS = 10_000;
/** How the PLC source reads in logs and status.json when there is none. */
const NO_PLC = 'none (--no-plc)';

/** Settings SIGHUP applies at once. */
const LIVE_SETTINGS = ['logLevel', 'periodSeconds', 'jitterSeconds', 'plc'] as const;
/** Settings a SIGHUP cannot change in a running daemon. */
const RESTART_ONLY = [
  'dataDir',
  'initStore',
  'adapter',
  'root',
  'cgroupParent',
  'uidRange',
  'delegateShell',
  'bwlimit',
  'lxc',
  'apiSocket',
  'apiPort',
  'apiHttps',
  'xmlrpcSocket',
  'xmlrpcLegacySocket',
  'xmlrpcPort',
  'startup',
  'staggerSeconds',
  'workers',
  'resyncSeconds',
  'eventRetentionSeconds',
  'logFormat',
  'fleet',
  'role',
  'store',
  'controllers',
  'confFileDirs',
  'adoptOrphans',
] as const;
type Setting = (typeof LIVE_SETTINGS)[number] | (typeof RESTART_ONLY)[number];

function settingText(key: Setting, config: SlvdConfig): string {
  const value = config[key];
  if (key === 'plc') return plcText(config.plc);
  return value === undefined ? '(unset)' : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** `period 600 -> 60, logLevel info -> debug`: each changed setting from one config to another. */
function changesText(keys: readonly Setting[], from: SlvdConfig, to: SlvdConfig): string {
  return keys.map((key) => `${key} ${settingText(key, from)} -> ${settingText(key, to)}`).join(', ');
}

function isReady(conditions: Condition[] | undefined): boolean {
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function plcClientFor(config: Extract<PlcSourceConfig, { kind: 'url' }>): PlcClient {
  return new PlcClient({ url: config.url, allowHttp: config.allowHttp, timeoutMs: config.timeoutMs, ...(config.cacert !== undefined ? { cacert: config.cacert } : {}) });
}

function plcText(plc: PlcSourceConfig): string {
  return plc.kind === 'url' ? plc.url : plc.kind === 'file' ? plc.path : NO_PLC;
}

type PlcSourceToPoll = Exclude<PlcSourceConfig, { kind: 'none' }>;

function plcSourceFor(config: PlcSourceToPoll, dataDir: string): GetSliversSource {
  if (config.kind === 'file') return fileSource(config.path);
  const client = plcClientFor(config);
  if (config.auth.kind === 'struct') return structAuthSource(client, config.auth.struct);
  return new NodeAuthSource(client, readNodeCredentials(config.auth), new SessionFile(join(dataDir, PLC_SESSION_FILE)));
}

/** The node duties work on the real node's files (the sim adapter has none): under --root, or /. */
function dutiesFor(config: SlvdConfig): DutiesOptions {
  const client = config.plc.kind === 'url' ? plcClientFor(config.plc) : undefined;
  return {
    files: new NodeFiles(config.root ?? '/'),
    ...(client ? { fetchConfFile: (source: string) => client.fetchFile(source) } : {}),
    confFileDirs: config.confFileDirs,
    commandTimeoutMs: DEFAULT_COMMAND_TIMEOUT_MS,
  };
}

export class Slvd {
  private readonly lifecycle = new Lifecycle('slvd');
  private readonly startedAt = new Date().toISOString();
  private readonly registry = new Registry();
  private readonly status: StatusFile;
  /** Every part that is up, closed in reverse order by close(). */
  private readonly parts: Disposables;
  private lock: DataDirLock | undefined;
  private store: Store | undefined;
  private bandwidth: BandwidthLimiter | undefined;
  private manager: Manager | undefined;
  private plcSync: PlcSync | undefined;
  private poller: PlcPoller | undefined;
  /** Which XML-RPC socket paths are served, and why not (status.json says so too). */
  private xmlrpcSockets: SocketReport[] = [];
  /** The HTTPS listener, its tokens re-read on SIGHUP. */
  private apiHttps: ApiHttps | undefined;
  private firstSyncDone = false;
  private lastReadiness = '';

  constructor(
    private config: SlvdConfig,
    private readonly flags: SlvdConfigFile,
    private readonly log: Logger,
  ) {
    this.status = new StatusFile(config.dataDir);
    this.parts = new Disposables(log);
  }

  /** The phase status.json reports. */
  private get phase(): DaemonPhase {
    switch (this.lifecycle.state) {
      case 'new':
      case 'starting':
        return 'starting';
      case 'running':
        return 'running';
      case 'closing':
        return 'stopping';
      case 'closed':
        return 'stopped';
    }
  }

  /** Ready: the cache watches the store and the first PLC sync was attempted (applied or not). */
  get ready(): boolean {
    return this.phase === 'running' && this.firstSyncDone && (this.manager?.isReady() ?? false);
  }

  /** Start every part, then poll PLC. A failed start leaves what did start for close(). */
  async start(): Promise<void> {
    await this.lifecycle.start(() => this.startParts());
    const { config } = this;
    this.log.info(
      { dataDir: config.dataDir, adapter: config.adapter, plc: this.plcDescription(), apiSocket: config.apiSocket, xmlrpcSocket: config.xmlrpcSocket, xmlrpcPort: config.xmlrpcPort },
      'slvd started',
    );
    // After 'running', so the first sync's readiness report is not skipped as "still starting".
    const { manager, poller } = this;
    if (manager && poller)
      void manager.addRunnable(poller).catch(() => undefined); // a failed start is logged by the manager
    else {
      this.firstSyncDone = true; // no PLC: nothing to wait for, the node's own APIs drive it
      this.writeStatus();
    }
  }

  private plcDescription(): string {
    return this.plcSync?.description ?? NO_PLC;
  }

  private async startParts(): Promise<void> {
    const { config } = this;
    // Before the data dir: a PLC URL, CA or credentials that cannot work are a usage error, and so
    // are an HTTPS certificate, key or token file that cannot be read.
    const plcSource = config.plc.kind === 'none' ? undefined : plcSourceFor(config.plc, config.dataDir);
    this.apiHttps = config.apiHttps ? new ApiHttps(config.apiHttps, this.log) : undefined;
    const stateAtStart = dataDirEntries(config.dataDir).filter((entry) => NODE_STATE_ENTRIES.has(entry));
    mkdirSync(config.dataDir, { recursive: true, mode: 0o755 });
    const lock = acquireDataDirLock(config.dataDir);
    this.lock = lock;
    // Registered first, so closed last: the final status.json, then the data dir is given up.
    this.parts.add('data dir lock', () => {
      this.writeStatus('stopped');
      lock.close();
    });
    this.writeStatus();
    const storeFile = join(config.dataDir, STORE_FILE);
    checkStoreFile(storeFile, stateAtStart, config.initStore);
    const store = openSqliteStore(storeFile);
    this.store = store;
    this.parts.add('store', () => store.close());
    if (config.bwlimit) {
      const bandwidth = await createBandwidthLimiter(config.bwlimit);
      this.bandwidth = bandwidth;
      // Closed after the node: its last limit changes go through the limiter.
      this.parts.add('bandwidth limiter', () => bandwidth.close());
    }
    const { root, cgroupParent, uidRange, delegateShell, lxc } = config;
    const node = await createNodeAdapter(config.adapter, {
      dataDir: config.dataDir,
      ...(root ? { root } : {}),
      ...(cgroupParent ? { cgroupParent } : {}),
      ...(uidRange ? { uidRange } : {}),
      ...(delegateShell ? { delegateShellSource: delegateShell } : {}),
      ...(lxc ? { lxc } : {}),
      ...(this.bandwidth ? { bandwidth: this.bandwidth } : {}),
    });
    this.parts.add('node adapter', () => node.close());
    const manager = new Manager({
      store,
      log: this.log,
      registry: this.registry,
      workers: config.workers,
      resyncPeriodMs: config.resyncSeconds * 1000,
      eventRetentionMs: config.eventRetentionSeconds * 1000,
    });
    this.manager = manager;
    registerSliverMetrics(this.registry, manager.cache);
    const controllers = setupControllers(manager, {
      node,
      startup: config.startup,
      staggerSeconds: config.staggerSeconds,
      adoptOrphans: config.adoptOrphans,
      ...(this.bandwidth ? { bandwidth: this.bandwidth } : {}),
      enabled: selectControllers(config.controllers, CONTROLLER_NAMES, CONTROLLER_NAMES),
      ...(config.adapter === 'sim' ? {} : { duties: dutiesFor(config) }),
    });
    // Keeps status.json's Ready counts current between PLC syncs; a burst of changes is one write.
    const statusWriter = new Periodic({
      name: 'status-file',
      clock: systemClock,
      periodMs: 0,
      runAtStart: false,
      run: () => {
        if (this.firstSyncDone && this.phase === 'running') this.writeStatus();
      },
      onError: (error) => this.log.warn({ err: error }, 'could not write the status file'),
    });
    void manager.addRunnable(statusWriter).catch(() => undefined); // a failed start is logged by the manager
    manager.onChange(['Sliver', 'Delegate'], () => statusWriter.trigger());
    // Registered before it starts: a half-started manager still closes its informer and queues.
    this.parts.add('controllers', () => manager.close());
    await manager.start();

    if (config.fleet) await this.joinFleet(config.fleet, store);
    if (plcSource) this.plcSync = this.createPlcSync(plcSource);
    // One budget for every API listener, within the descriptors the process may open.
    const openFiles = native.raiseOpenFileLimit();
    const connections = new ConnectionBudget(connectionLimitsFor(openFiles.soft));
    this.log.info({ openFiles, connections: connections.limits }, 'open file limit raised to the hard limit; API connection limits set');
    const api = await startApiServer({
      store,
      node,
      socketPath: config.apiSocket,
      port: config.apiPort,
      ...(this.apiHttps ? { https: this.apiHttps.listener } : {}),
      metrics: this.registry,
      ready: () => this.ready,
      connections,
      log: this.log.child({ component: 'api' }),
    });
    this.parts.add('API server', () => api.close());
    const xmlrpc = await startXmlRpcShim({
      store,
      cache: manager.committedCache,
      node,
      socketPath: config.xmlrpcSocket,
      extraSocketPaths: config.xmlrpcLegacySocket ? [config.xmlrpcLegacySocket] : [],
      port: this.xmlrpcPortToServe(),
      connections,
      metrics: this.registry,
      log: this.log.child({ component: 'xmlrpc' }),
    });
    this.parts.add('XML-RPC server', () => xmlrpc.close());
    this.xmlrpcSockets = xmlrpc.sockets;
    controllers.sweepOrphans();
    // Started by the manager once slvd runs (start()); closed with the manager.
    if (this.plcSync) this.poller = new PlcPoller({ sync: this.plcSync, clock: systemClock, ...this.pollTiming(config), log: this.log, onSynced: (result) => this.afterSync(result) });
  }

  /**
   * The original's port 812 is privileged: a daemon not run as root (npm start on a laptop) serves
   * XML-RPC on the Unix socket only and says so, unless the port was asked for explicitly.
   */
  private xmlrpcPortToServe(): number {
    const { xmlrpcPort, xmlrpcPortExplicit } = this.config;
    if (xmlrpcPortExplicit || xmlrpcPort === 0 || xmlrpcPort >= 1024 || process.getuid?.() === 0) return xmlrpcPort;
    this.log.warn({ xmlrpcPort }, `XML-RPC on TCP 127.0.0.1:${xmlrpcPort} needs root; serving the Unix socket only (set --xmlrpc-port to choose another port)`);
    return 0;
  }

  /** Close every part that started, in reverse order; safe to call twice and after a failed start. */
  close(reason: string): Promise<void> {
    return this.lifecycle.close(async () => {
      this.log.info({ reason }, 'slvd stopping: draining queues');
      if (this.lock) this.writeStatus();
      try {
        await this.parts.closeAll();
      } finally {
        this.log.info('slvd stopped');
      }
    });
  }

  /**
   * SIGHUP: re-read the API token file and the config file, apply what a running daemon can change, and say exactly what
   * changed and what waits for a restart. The comparison is always with what is in effect, so a
   * file restored to the running values needs no restart.
   */
  reload(): void {
    this.apiHttps?.reloadTokens();
    if (!this.config.configFile) {
      this.log.info('SIGHUP: nothing to re-read: slvd was started without --config (flags and defaults only)');
      return;
    }
    let next: SlvdConfig;
    try {
      next = resolveConfig(this.flags, loadConfigFile(this.config.configFile), this.config.configFile);
    } catch (error) {
      this.log.error({ err: error }, 'SIGHUP: config not reloaded; keeping the running configuration');
      return;
    }
    const running = this.config;
    const differs = (key: Setting) => JSON.stringify(running[key]) !== JSON.stringify(next[key]);
    // The poller is made at start: turning PLC polling on or off waits for a restart too.
    const pollingToggled = (running.plc.kind === 'none') !== (next.plc.kind === 'none');
    const restartOnly: readonly Setting[] = pollingToggled ? [...RESTART_ONLY, 'plc'] : RESTART_ONLY;
    const applied = LIVE_SETTINGS.filter((key) => differs(key) && !restartOnly.includes(key));
    const pending = restartOnly.filter(differs);
    // What a restart would change stays as it runs.
    const kept = Object.fromEntries(restartOnly.map((key) => [key, running[key]]));
    this.config = { ...next, ...kept, xmlrpcPortExplicit: running.xmlrpcPortExplicit };
    this.log.level = next.logLevel;
    this.poller?.setTiming(this.pollTiming(next));
    if (applied.includes('plc') && this.poller && next.plc.kind !== 'none') {
      try {
        this.plcSync = this.createPlcSync(plcSourceFor(next.plc, next.dataDir));
      } catch (error) {
        this.log.error({ err: error }, 'SIGHUP: the new PLC source cannot be used; polling the previous one');
        return;
      }
      this.poller.setSync(this.plcSync);
      this.poller.trigger();
    }
    const file = next.configFile;
    if (!applied.length && !pending.length) this.log.info({ file }, 'SIGHUP: configuration reloaded, nothing changed');
    if (applied.length) this.log.info({ file, applied }, `SIGHUP: configuration reloaded: ${changesText(applied, running, next)}`);
    if (pending.length) this.log.warn({ file, settings: pending }, `SIGHUP: these changes take effect after a restart: ${changesText(pending, running, next)}`);
  }

  private pollTiming(config: SlvdConfig): PollTiming {
    return { periodMs: config.periodSeconds * 1000, jitterMs: config.jitterSeconds * 1000 };
  }

  /**
   * Follow this node's namespace in the fleet; never waits for etcd (docs/fleet.md). The etcd client
   * (etcd3, gRPC, protobufjs: some 25 MB resident) is loaded only by a node that joins one.
   */
  private async joinFleet(fleet: { url: string; nodeName: string }, store: Store): Promise<void> {
    const [{ NodeSync }, { fleetFromEnvironment }] = await Promise.all([import('../../adapters/fleet/node-sync.js'), import('./fleet-api.js')]);
    const sync = new NodeSync({
      fleet: fleetFromEnvironment(fleet.url),
      node: fleet.nodeName,
      local: store,
      log: this.log.child({ component: 'fleet' }),
      ...(this.manager ? { warnings: this.manager.events.forSource('fleet') } : {}),
    });
    this.parts.add('fleet link', () => sync.close());
    sync.start();
  }

  private createPlcSync(source: GetSliversSource): PlcSync {
    if (!this.store) throw new InvariantError('the PLC sync needs the store, which is not open yet');
    return new PlcSync({
      store: this.store,
      source,
      state: new PlcStateFile(join(this.config.dataDir, PLC_STATE_FILE)),
      log: this.log.child({ component: 'plc' }),
      registry: this.registry,
      ...(this.manager ? { events: this.manager.events.forSource('plc') } : {}),
    });
  }

  /** After each PLC sync: let the controllers settle, then report readiness (log once per change, status file). */
  private async afterSync(result: PlcSyncResult): Promise<void> {
    try {
      this.firstSyncDone = true;
      if (this.phase !== 'running' || !this.manager) return;
      if (result.outcome !== 'applied') this.log.warn('serving the stored state until PLC answers');
      await this.manager.waitForIdle();
      if (this.phase !== 'running') return;
      this.reportReadiness();
      this.writeStatus();
    } catch (error) {
      this.log.error({ err: error }, 'could not report readiness');
    }
  }

  private counts() {
    const cache = this.manager?.cache;
    const slivers = cache?.list('Sliver') ?? [];
    const delegates = cache?.list('Delegate') ?? [];
    return {
      slivers,
      sliverCounts: { total: slivers.length, ready: slivers.filter((s) => isReady(s.status?.conditions)).length },
      delegateCounts: { total: delegates.length, ready: delegates.filter((d) => isReady(d.status?.conditions)).length },
    };
  }

  private reportReadiness(): void {
    const { slivers, sliverCounts, delegateCounts } = this.counts();
    const summary = `${sliverCounts.ready}/${sliverCounts.total} slivers Ready, ${delegateCounts.ready}/${delegateCounts.total} delegates Ready`;
    if (summary === this.lastReadiness) return;
    this.lastReadiness = summary;
    const notReady = slivers.filter((s) => !isReady(s.status?.conditions)).map((s) => `${s.metadata.name}: ${s.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? 'Pending'}`);
    if (notReady.length === 0) this.log.info({ slivers: slivers.map((s) => s.metadata.name).sort() }, summary);
    else this.log.warn({ notReady }, summary);
  }

  private writeStatus(phase: DaemonPhase = this.phase): void {
    const { sliverCounts, delegateCounts } = this.counts();
    const last = this.plcSync?.lastResult;
    const applied = this.plcSync?.lastApplied;
    const reached = this.plcSync?.lastReached;
    const authenticated = this.plcSync?.authenticated;
    try {
      this.status.write({
        pid: process.pid,
        phase,
        ready: this.ready,
        startedAt: this.startedAt,
        adapter: this.config.adapter,
        apiSocket: this.config.apiSocket,
        apiPort: this.config.apiPort,
        xmlrpcSocket: this.config.xmlrpcSocket,
        xmlrpcSockets: this.xmlrpcSockets,
        xmlrpcPort: this.config.xmlrpcPort,
        plc: {
          source: this.plcDescription(),
          ...(last
            ? {
                lastSync: {
                  outcome: last.outcome,
                  at: new Date(last.at).toISOString(),
                  created: last.created,
                  updated: last.updated,
                  deleted: last.deleted,
                  skipped: last.skipped.map((entry) => entry.reason),
                  ...(last.error ? { error: last.error } : {}),
                },
              }
            : {}),
          ...(applied ? { lastApplied: new Date(applied.at).toISOString() } : {}),
          ...(reached !== undefined ? { lastReached: new Date(reached).toISOString() } : {}),
          ...(authenticated !== undefined ? { authenticated } : {}),
        },
        slivers: sliverCounts,
        delegates: delegateCounts,
      });
    } catch (error) {
      this.log.warn({ err: error, file: this.status.path }, 'could not write the status file');
    }
  }
}

/** Run slvd with its configuration (and the flags it came from) until a signal stops it; resolves to the process exit code. */
export async function runSlvd(config: SlvdConfig, flags: SlvdConfigFile): Promise<number> {
  const log = createLogger(config.logLevel, config.logFormat);
  const daemon = config.role === 'fleet-api' ? new (await import('./fleet-api.js')).FleetApiDaemon(config, log) : new Slvd(config, flags, log);
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const stopAndExit = (reason: string) => {
    daemon.close(reason).then(
      () => finish(0),
      (error: unknown) => finish(exitCodeFor(error)),
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGHUP') return daemon.reload();
    stopAndExit(signal);
  };
  // Every request and periodic task handles its own failures, so one that reaches the process is a
  // bug and the daemon's state is unknown: log it, stop as on SIGTERM (bounded), exit 1 for the
  // supervisor to restart. The store is transactional, so a restart loses nothing acknowledged.
  const onBug = (error: unknown, origin: string) => {
    log.fatal({ err: error, origin }, 'slvd: a failure no request or task handled (a bug); stopping');
    setTimeout(() => process.exit(ExitCodes.failure), STOP_AFTER_BUG_MS).unref();
    daemon.close(origin).then(
      () => finish(ExitCodes.failure),
      () => finish(ExitCodes.failure),
    );
  };
  const onRejection = (reason: unknown) => onBug(reason, 'unhandledRejection');
  const onException = (error: Error) => onBug(error, 'uncaughtException');
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  try {
    await daemon.start();
  } catch (error) {
    log.error({ err: error }, 'slvd could not start');
    printError(error);
    await daemon.close('startup failed').catch(() => undefined);
    finish(exitCodeFor(error));
  }
  const code = await finished;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onSignal);
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
  return code;
}
