// slvd, the node daemon: composes the store, the node adapter, the controllers, the PLC poller and
// the two API servers, and owns their lifecycle: each part is registered as it starts and closed in
// reverse order. SIGTERM/SIGINT drain and exit 0, SIGHUP re-reads the config file. Readiness goes
// to <data-dir>/status.json (kept current by a runnable that follows the cache) and the API's /readyz.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { startApiServer } from '../../adapters/api/rest/server.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { StatusFile, type DaemonPhase } from './status-file.js';
import { createBandwidthLimiter } from '../../adapters/net/bwlimit/index.js';
import { createNodeAdapter } from '../../adapters/node/index.js';
import type { BandwidthLimiter } from '../../adapters/node/contract.js';
import { PlcStateFile, PlcSync, fileSource, xmlRpcSource, type PlcSyncResult } from '../../adapters/plc/index.js';
import { openSqliteStore } from '../../adapters/store/sqlite.js';
import { NodeSync } from '../../adapters/fleet/node-sync.js';
import { fleetConnection } from '../../adapters/fleet/layout.js';
import { startXmlRpcShim } from '../../adapters/api/xmlrpc/server.js';
import { exitCodeFor, InvariantError } from '../../resources/errors.js';
import type { Store } from '../../adapters/store/contract.js';
import { Disposables, Lifecycle } from '../../adapters/support/lifecycle.js';
import type { Condition } from '../../schemas/types.js';
import { loadConfigFile, parseCommandLine, resolveConfig, type PlcSourceConfig, type SlvdConfig } from './config.js';
import { setupControllers } from '../controllers/index.js';
import { createLogger } from './log.js';
import { PlcPoller } from './plc-poller.js';
import { Manager, Periodic, systemClock } from '../runtime/index.js';
import type { SlvdConfigFile } from '../../schemas/config.js';

export const STORE_FILE = 'store.db';
export const PLC_STATE_FILE = 'plc-state.json';

/** Settings a SIGHUP cannot change in a running daemon. */
const RESTART_ONLY: ReadonlyArray<keyof SlvdConfig> = ['dataDir', 'adapter', 'root', 'cgroupParent', 'uidRange', 'delegateShell', 'bwlimit', 'lxc', 'apiSocket', 'xmlrpcSocket', 'xmlrpcPort', 'startup', 'staggerSeconds', 'workers', 'resyncSeconds', 'fleet'];

function isReady(conditions: Condition[] | undefined): boolean {
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function plcSourceFor(config: PlcSourceConfig) {
  return config.kind === 'url' ? xmlRpcSource({ url: config.url, auth: config.auth, timeoutMs: config.timeoutMs }) : fileSource(config.path);
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
      { dataDir: config.dataDir, adapter: config.adapter, plc: this.plcSync?.description, apiSocket: config.apiSocket, xmlrpcSocket: config.xmlrpcSocket, xmlrpcPort: config.xmlrpcPort },
      'slvd started',
    );
    // After 'running', so the first sync's readiness report is not skipped as "still starting".
    const { manager, poller } = this;
    if (manager && poller) void manager.addRunnable(poller).catch(() => undefined); // a failed start is logged by the manager
  }

  private async startParts(): Promise<void> {
    const { config } = this;
    mkdirSync(config.dataDir, { recursive: true, mode: 0o755 });
    const lock = acquireDataDirLock(config.dataDir);
    this.lock = lock;
    // Registered first, so closed last: the final status.json, then the data dir is given up.
    this.parts.add('data dir lock', () => {
      this.writeStatus('stopped');
      lock.close();
    });
    this.writeStatus();
    const store = openSqliteStore(join(config.dataDir, STORE_FILE));
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
    const manager = new Manager({ store, log: this.log, registry: this.registry, workers: config.workers, resyncPeriodMs: config.resyncSeconds * 1000 });
    this.manager = manager;
    const controllers = setupControllers(manager, { node, startup: config.startup, staggerSeconds: config.staggerSeconds });
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

    if (config.fleet) this.joinFleet(config.fleet, store);
    this.plcSync = this.createPlcSync(config.plc);
    const api = await startApiServer({ store, socketPath: config.apiSocket, metrics: this.registry, ready: () => this.ready, node });
    this.parts.add('API server', () => api.close());
    const xmlrpc = await startXmlRpcShim({ store, node, socketPath: config.xmlrpcSocket, port: this.xmlrpcPortToServe(), log: this.log.child({ component: 'xmlrpc' }) });
    this.parts.add('XML-RPC server', () => xmlrpc.close());
    controllers.sweepOrphans();
    // Started by the manager once slvd runs (start()); closed with the manager.
    this.poller = new PlcPoller({ sync: this.plcSync, clock: systemClock, periodMs: config.periodSeconds * 1000, log: this.log, onSynced: (result) => this.afterSync(result) });
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

  /** SIGHUP: re-read the config file and apply what a running daemon can change. */
  reload(): void {
    if (!this.config.configFile) {
      this.log.info('SIGHUP: no --config file to re-read');
      return;
    }
    let next: SlvdConfig;
    try {
      next = resolveConfig(this.flags, loadConfigFile(this.config.configFile), this.config.configFile);
    } catch (error) {
      this.log.error({ err: error }, 'SIGHUP: config not reloaded; keeping the running configuration');
      return;
    }
    const previous = this.config;
    this.config = next;
    const needRestart = RESTART_ONLY.filter((key) => JSON.stringify(previous[key]) !== JSON.stringify(next[key]));
    if (needRestart.length > 0) this.log.warn({ settings: needRestart }, 'SIGHUP: these settings take effect after a restart');
    this.log.level = next.logLevel;
    this.poller?.setPeriod(next.periodSeconds * 1000);
    if (JSON.stringify(previous.plc) !== JSON.stringify(next.plc) && this.poller) {
      this.plcSync = this.createPlcSync(next.plc);
      this.poller.setSync(this.plcSync);
      this.poller.trigger();
    }
    this.log.info({ file: next.configFile, logLevel: next.logLevel, period: next.periodSeconds, plc: this.plcSync?.description }, 'SIGHUP: configuration reloaded');
  }

  /** Follow this node's namespace in the fleet; never waits for etcd (docs/fleet.md). */
  private joinFleet(fleet: { url: string; nodeName: string }, store: Store): void {
    const { SLV_FLEET_USER, SLV_FLEET_PASSWORD } = process.env;
    const sync = new NodeSync({
      fleet: { ...fleetConnection(fleet.url), ...(SLV_FLEET_USER && SLV_FLEET_PASSWORD ? { auth: { username: SLV_FLEET_USER, password: SLV_FLEET_PASSWORD } } : {}) },
      node: fleet.nodeName,
      local: store,
      log: this.log.child({ component: 'fleet' }),
      ...(this.manager ? { warnings: this.manager.events.forSource('fleet') } : {}),
    });
    this.parts.add('fleet link', () => sync.close());
    sync.start();
  }

  private createPlcSync(plc: PlcSourceConfig): PlcSync {
    if (!this.store) throw new InvariantError('the PLC sync needs the store, which is not open yet');
    return new PlcSync({
      store: this.store,
      source: plcSourceFor(plc),
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
    const notReady = slivers
      .filter((s) => !isReady(s.status?.conditions))
      .map((s) => `${s.metadata.name}: ${s.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? 'Pending'}`);
    if (notReady.length === 0) this.log.info({ slivers: slivers.map((s) => s.metadata.name).sort() }, summary);
    else this.log.warn({ notReady }, summary);
  }

  private writeStatus(phase: DaemonPhase = this.phase): void {
    const { sliverCounts, delegateCounts } = this.counts();
    const last = this.plcSync?.lastResult;
    const applied = this.plcSync?.lastApplied;
    try {
      this.status.write({
        pid: process.pid,
        phase,
        ready: this.ready,
        startedAt: this.startedAt,
        adapter: this.config.adapter,
        apiSocket: this.config.apiSocket,
        xmlrpcSocket: this.config.xmlrpcSocket,
        xmlrpcPort: this.config.xmlrpcPort,
        plc: {
          source: this.plcSync?.description ?? '',
          ...(last
            ? { lastSync: { outcome: last.outcome, at: new Date(last.at).toISOString(), created: last.created, updated: last.updated, deleted: last.deleted, ...(last.error ? { error: last.error } : {}) } }
            : {}),
          ...(applied ? { lastApplied: new Date(applied.at).toISOString() } : {}),
        },
        slivers: sliverCounts,
        delegates: delegateCounts,
      });
    } catch (error) {
      this.log.warn({ err: error, file: this.status.path }, 'could not write the status file');
    }
  }
}

function printError(error: unknown): void {
  process.stderr.write(`slvd: ${error instanceof Error ? error.message : String(error)}\n`);
}

/** Run slvd until a signal stops it; resolves to the process exit code. */
export async function runSlvd(argv: readonly string[]): Promise<number> {
  let config: SlvdConfig;
  let flags: SlvdConfigFile;
  try {
    const parsed = parseCommandLine(argv);
    if ('help' in parsed) {
      process.stdout.write(parsed.help);
      return 0;
    }
    flags = parsed.flags;
    config = resolveConfig(flags, parsed.configFile ? loadConfigFile(parsed.configFile) : {}, parsed.configFile);
  } catch (error) {
    printError(error);
    return exitCodeFor(error);
  }

  const log = createLogger(config.logLevel);
  const daemon = new Slvd(config, flags, log);
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
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
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
  return code;
}
