// slvd, the node daemon: composes the store, the node adapter, the controllers, the PLC poller and
// the two API servers, and owns their lifecycle. SIGTERM/SIGINT drain and exit 0, SIGHUP re-reads
// the config file. Readiness goes to <data-dir>/status.json and the API's /readyz.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { startApiServer } from '../../adapters/api/rest/server.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { StatusFile, type DaemonPhase } from './status-file.js';
import { createBandwidthLimiter } from '../../adapters/net/bwlimit/index.js';
import { createNodeAdapter } from '../../adapters/node/index.js';
import type { BandwidthLimiter, NodeAdapter } from '../../adapters/node/contract.js';
import { PlcStateFile, PlcSync, fileSource, xmlRpcSource, type PlcSyncResult } from '../../adapters/plc/index.js';
import { openSqliteStore } from '../../adapters/store/sqlite.js';
import { startXmlRpcShim } from '../../adapters/api/xmlrpc/server.js';
import { exitCodeFor } from '../../resources/errors.js';
import type { Store } from '../../adapters/store/contract.js';
import type { Condition } from '../../schemas/types.js';
import { loadConfigFile, parseCommandLine, resolveConfig, type PlcSourceConfig, type SlvdConfig } from './config.js';
import { createControllers, ORPHAN_SWEEP_KEY } from '../controllers/index.js';
import { createLogger } from './log.js';
import { PlcPoller } from './plc-poller.js';
import { Manager, systemClock } from '../runtime/index.js';
import type { SlvdConfigFile } from '../../schemas/config.js';

export const STORE_FILE = 'store.db';
export const PLC_STATE_FILE = 'plc-state.json';

/** Settings a SIGHUP cannot change in a running daemon. */
const RESTART_ONLY: ReadonlyArray<keyof SlvdConfig> = ['dataDir', 'adapter', 'root', 'cgroupParent', 'uidRange', 'delegateShell', 'bwlimit', 'apiSocket', 'xmlrpcSocket', 'xmlrpcPort', 'startup', 'staggerSeconds', 'adoptOrphans', 'workers', 'resyncSeconds'];

interface Closable {
  close(): Promise<void>;
}

function isReady(conditions: Condition[] | undefined): boolean {
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

type PlcSourceToPoll = Exclude<PlcSourceConfig, { kind: 'none' }>;

function plcSourceFor(config: PlcSourceToPoll) {
  return config.kind === 'url' ? xmlRpcSource({ url: config.url, auth: config.auth, timeoutMs: config.timeoutMs }) : fileSource(config.path);
}

export class Slvd {
  private phase: DaemonPhase = 'starting';
  private readonly startedAt = new Date().toISOString();
  private readonly registry = new Registry();
  private readonly status: StatusFile;
  private lock: DataDirLock | undefined;
  private store: Store | undefined;
  private bandwidth: BandwidthLimiter | undefined;
  private node: NodeAdapter | undefined;
  private manager: Manager | undefined;
  private plcSync: PlcSync | undefined;
  private poller: PlcPoller | undefined;
  private readonly servers: Closable[] = [];
  private firstSyncDone = false;
  private lastReadiness = '';
  private stopping: Promise<void> | undefined;

  constructor(
    private config: SlvdConfig,
    private readonly flags: SlvdConfigFile,
    private readonly log: Logger,
  ) {
    this.status = new StatusFile(config.dataDir);
  }

  /** Ready: the cache watches the store and the first PLC sync was attempted (applied or not). */
  get ready(): boolean {
    return this.phase === 'running' && this.firstSyncDone && (this.manager?.isReady() ?? false);
  }

  async start(): Promise<void> {
    const { config } = this;
    mkdirSync(config.dataDir, { recursive: true, mode: 0o755 });
    this.lock = acquireDataDirLock(config.dataDir);
    this.writeStatus();
    this.store = openSqliteStore(join(config.dataDir, STORE_FILE));
    if (config.bwlimit) this.bandwidth = await createBandwidthLimiter(config.bwlimit);
    const { root, cgroupParent, uidRange, delegateShell } = config;
    this.node = await createNodeAdapter(config.adapter, {
      dataDir: config.dataDir,
      ...(root ? { root } : {}),
      ...(cgroupParent ? { cgroupParent } : {}),
      ...(uidRange ? { uidRange } : {}),
      ...(delegateShell ? { delegateShellSource: delegateShell } : {}),
      ...(this.bandwidth ? { bandwidth: this.bandwidth } : {}),
    });
    this.manager = new Manager({ store: this.store, log: this.log, registry: this.registry, workers: config.workers, resyncPeriodMs: config.resyncSeconds * 1000 });
    for (const controller of createControllers({ node: this.node, startup: config.startup, staggerSeconds: config.staggerSeconds, adoptOrphans: config.adoptOrphans })) {
      this.manager.add(controller);
    }
    // Keeps status.json's Ready counts current between PLC syncs (one key: changes coalesce).
    this.manager.add({
      name: 'daemon-status',
      watches: ['Sliver', 'Delegate'],
      keysFor: () => ['status.json'],
      reconcile: async () => {
        if (this.firstSyncDone && this.phase === 'running') this.writeStatus();
      },
    });
    await this.manager.start();

    if (config.plc.kind !== 'none') this.plcSync = this.createPlcSync(config.plc);
    this.servers.push(await startApiServer({ store: this.store, socketPath: config.apiSocket, metrics: this.registry, ready: () => this.ready, node: this.node }));
    this.servers.push(
      await startXmlRpcShim({ store: this.store, node: this.node, socketPath: config.xmlrpcSocket, port: this.xmlrpcPortToServe(), log: this.log.child({ component: 'xmlrpc' }) }),
    );
    this.manager.enqueue('account', ORPHAN_SWEEP_KEY);
    this.phase = 'running';
    this.log.info(
      { dataDir: config.dataDir, adapter: config.adapter, plc: this.plcDescription(), apiSocket: config.apiSocket, xmlrpcSocket: config.xmlrpcSocket, xmlrpcPort: config.xmlrpcPort },
      'slvd started',
    );
    if (!this.plcSync) {
      this.firstSyncDone = true; // nothing to wait for: the node's own APIs drive it
      this.writeStatus();
      return;
    }
    this.poller = new PlcPoller(this.plcSync, systemClock, config.periodSeconds * 1000, (result) => this.afterSync(result));
    void this.poller.start();
  }

  private plcDescription(): string {
    return this.plcSync?.description ?? 'none (--no-plc)';
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

  /** Drain and release everything; safe to call twice. */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
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
    if (JSON.stringify(previous.plc) !== JSON.stringify(next.plc)) {
      if (this.poller && next.plc.kind !== 'none') {
        this.plcSync = this.createPlcSync(next.plc);
        this.poller.setSync(this.plcSync);
        void this.poller.tick();
      } else {
        this.log.warn({ settings: ['plc'] }, 'SIGHUP: turning PLC polling on or off takes effect after a restart');
      }
    }
    this.log.info({ file: next.configFile, logLevel: next.logLevel, period: next.periodSeconds, plc: this.plcDescription() }, 'SIGHUP: configuration reloaded');
  }

  private createPlcSync(plc: PlcSourceToPoll): PlcSync {
    if (!this.store) throw new Error('the store is not open');
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

  private writeStatus(): void {
    const { sliverCounts, delegateCounts } = this.counts();
    const last = this.plcSync?.lastResult;
    const applied = this.plcSync?.lastApplied;
    try {
      this.status.write({
        pid: process.pid,
        phase: this.phase,
        ready: this.ready,
        startedAt: this.startedAt,
        adapter: this.config.adapter,
        apiSocket: this.config.apiSocket,
        xmlrpcSocket: this.config.xmlrpcSocket,
        xmlrpcPort: this.config.xmlrpcPort,
        plc: {
          source: this.plcDescription(),
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

  private async shutdown(reason: string): Promise<void> {
    this.log.info({ reason }, 'slvd stopping: draining queues');
    this.phase = 'stopping';
    if (this.lock) this.writeStatus();
    const steps: Array<[string, () => Promise<void> | void]> = [
      ['plc poller', () => this.poller?.stop()],
      ['API servers', async () => void (await Promise.all(this.servers.map((s) => s.close())))],
      ['controllers', () => this.manager?.stop()],
      ['node adapter', () => this.node?.close()],
      // After the node: its last limit changes go through the limiter.
      ['bandwidth limiter', () => this.bandwidth?.close()],
      ['store', () => this.store?.close()],
    ];
    let failed: unknown;
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (error) {
        failed ??= error;
        this.log.error({ err: error }, `stopping the ${what} failed`);
      }
    }
    this.phase = 'stopped';
    if (this.lock) {
      this.writeStatus();
      this.lock.release();
    }
    this.log.info('slvd stopped');
    if (failed) throw failed;
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
    daemon.stop(reason).then(
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
    await daemon.stop('startup failed').catch(() => undefined);
    finish(exitCodeFor(error));
  }
  const code = await finished;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onSignal);
  return code;
}
