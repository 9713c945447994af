// `slvd --role fleet-api`: the REST API of a whole fleet over its etcd (docs/fleet.md "The fleet
// API"). Stateless: no data dir, no lock, no local store, no controllers, so several may serve one
// fleet at once; what it caches (each namespace it was asked about) is rebuilt from etcd on start.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from '../../adapters/support/prometheus.js';
import { startApiServer } from '../../adapters/api/rest/server.js';
import { connect, fleetConnection, type FleetConnection } from '../../adapters/fleet/layout.js';
import { Disposables, Lifecycle } from '../../adapters/support/lifecycle.js';
import { InvariantError } from '../../resources/errors.js';
import type { SlvdConfig } from './config.js';
import { ApiHttps } from './api-https.js';

/** The fleet at `url`, with the etcd user and password of SLV_FLEET_USER and SLV_FLEET_PASSWORD when both are set. */
export function fleetFromEnvironment(url: string, env: NodeJS.ProcessEnv = process.env): FleetConnection {
  const { SLV_FLEET_USER, SLV_FLEET_PASSWORD } = env;
  return { ...fleetConnection(url), ...(SLV_FLEET_USER && SLV_FLEET_PASSWORD ? { auth: { username: SLV_FLEET_USER, password: SLV_FLEET_PASSWORD } } : {}) };
}

export class FleetApiDaemon {
  private readonly lifecycle = new Lifecycle('fleet API');
  private readonly parts: Disposables;
  private apiHttps: ApiHttps | undefined;

  constructor(
    private readonly config: SlvdConfig,
    private readonly log: Logger,
  ) {
    this.parts = new Disposables(log);
  }

  async start(): Promise<void> {
    const { config } = this;
    if (!config.store) throw new InvariantError('the fleet-api role was chosen without a --store URL');
    const fleet = fleetFromEnvironment(config.store);
    this.apiHttps = config.apiHttps ? new ApiHttps(config.apiHttps, this.log) : undefined;
    await this.lifecycle.start(async () => {
      // etcd is not asked anything yet: the API starts whether or not etcd answers, and each request says if it does not.
      const client = connect(fleet);
      this.parts.add('etcd client', () => client.close());
      mkdirSync(dirname(config.apiSocket), { recursive: true, mode: 0o755 });
      const api = await startApiServer({
        fleet: { client, connection: fleet },
        socketPath: config.apiSocket,
        port: config.apiPort,
        ...(this.apiHttps ? { https: this.apiHttps.listener } : {}),
        metrics: new Registry(),
        ready: () => this.lifecycle.state === 'running',
        log: this.log.child({ component: 'api' }),
      });
      this.parts.add('API server', () => api.close());
    });
    this.log.info({ etcd: fleet.hosts, root: fleet.root, apiSocket: config.apiSocket, apiPort: config.apiPort, etcdUser: fleet.auth?.username ?? '(none)' }, 'fleet API started');
  }

  /** A SIGHUP re-reads the HTTPS token file; every other setting of the fleet API needs a restart. */
  reload(): void {
    if (this.apiHttps) this.apiHttps.reloadTokens();
    else this.log.info('SIGHUP: the fleet API has no settings to re-read; restart it to change them');
  }

  close(reason: string): Promise<void> {
    return this.lifecycle.close(async () => {
      this.log.info({ reason }, 'fleet API stopping');
      await this.parts.closeAll();
    });
  }
}
