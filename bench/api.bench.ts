// REST API figures: GET latency (p50, p99) and requests/s with 1 and 8 concurrent clients, over the
// real Unix socket against a real SQLite store. Clients and server share this process (and its one
// event loop), so the figures are a floor for what separate client processes would see.
import { performance } from 'node:perf_hooks';
import { ApiClient } from '../adapters/api/client/client.js';
import { sliverManifest, startTestApi } from '../test/support/api-harness.js';
import { report } from './report.js';

const BENCH = 'api';
const SECONDS = 3;
const SLIVERS = 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const api = await startTestApi();
await Promise.all(Array.from({ length: SLIVERS }, (_, i) => api.store.create(sliverManifest(`s${i}`, { rspec: { cpu_share: 32 + i } }))));

async function getLoad(clients: number): Promise<void> {
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = new ApiClient(api.socketPath);
      for (let i = c; performance.now() < deadline; i++) {
        const begin = performance.now();
        await client.get('Sliver', `s${i % SLIVERS}`);
        latencies.push(performance.now() - begin);
      }
      client.close();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const extra = { clients, requests: latencies.length, clients_in_process: true };
  report(BENCH, `get_latency_p50_${clients}_clients`, percentile(latencies, 50), 'ms', extra);
  report(BENCH, `get_latency_p99_${clients}_clients`, percentile(latencies, 99), 'ms', extra);
  report(BENCH, `get_requests_per_s_${clients}_clients`, latencies.length / elapsed, 'requests/s', extra);
}

try {
  await getLoad(1);
  await getLoad(8);
} finally {
  await api.close();
}
