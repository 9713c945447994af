// A real API server for tests: a SQLite store and a sim node in a world-readable temp dir (so
// clients running as other uids can reach the socket), served by startApiServer.
import { sliverObject } from './sliver-objects.js';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { startApiServer, type ApiServer } from '../../adapters/api/rest/server.js';
import { ApiClient } from '../../adapters/api/client/client.js';
import { createSimAdapter, type SimAdapter } from '../../adapters/node/sim/index.js';
import { openSqliteStore } from '../../adapters/store/sqlite.js';
import type { Store } from '../../adapters/store/contract.js';
import type { Sliver } from '../../schemas/types.js';

export interface TestApi {
  dir: string;
  socketPath: string;
  store: Store;
  node: SimAdapter;
  metrics: Registry;
  client: ApiClient;
  server: ApiServer;
  close(): Promise<void>;
}

export async function startTestApi(options: { maxBodyBytes?: number; bookmarkIntervalMs?: number; port?: number } = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'slv-api-'));
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'api.sock');
  const store = openSqliteStore(join(dir, 'store.db'));
  const node = createSimAdapter({ dataDir: dir });
  const metrics = new Registry();
  const server = await startApiServer({ store, socketPath, metrics, ready: () => true, node, ...options });
  const client = new ApiClient(socketPath);
  const api: TestApi = {
    dir,
    socketPath,
    store,
    node,
    metrics,
    client,
    server,
    close: async () => {
      client.close();
      await api.server.close(); // the server a test restarted, if it did
      await store.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}

/** A PLC-style sliver as a manifest (no server-set metadata). */
export function sliverManifest(name: string, spec: Partial<Sliver['spec']> = {}, metadata: Partial<Sliver['metadata']> = {}): Sliver {
  return sliverObject(name, { timestamp: 0, ...spec }, metadata);
}
