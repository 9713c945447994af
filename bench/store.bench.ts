// Store figures: durable write throughput (one writer vs 64 with group commit), bulk write and
// list of 10,000 slivers, and watch delivery latency. Real SQLite files in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../adapters/store/sqlite.js';
import { sliver } from '../adapters/store/conformance.js';
import { report } from './report.js';

const BENCH = 'store';
const dir = mkdtempSync(join(tmpdir(), 'slv-bench-store-'));
let counter = 0;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function writersPerSecond(writers: number, seconds: number): Promise<number> {
  const store = openSqliteStore(join(dir, `writers-${writers}.db`));
  const deadline = performance.now() + seconds * 1000;
  let writes = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        await store.create(sliver(`w${counter++}`));
        writes++;
      }
    }),
  );
  const rate = writes / seconds;
  await store.close();
  return rate;
}

const single = await writersPerSecond(1, 3);
report(BENCH, 'durable_writes_per_s_1_writer', single, 'writes/s');
const grouped = await writersPerSecond(64, 3);
report(BENCH, 'durable_writes_per_s_64_writers', grouped, 'writes/s', { speedup_vs_single: Number((grouped / single).toFixed(1)), aim: '>= 10x single' });

const store = openSqliteStore(join(dir, 'bulk.db'));
let start = performance.now();
await Promise.all(Array.from({ length: 10_000 }, (_, i) => store.create(sliver(`s${i}`, { rspec: { cpu_share: 32 + (i % 7) }, keys: [`ssh-ed25519 AAAA${i} user${i}@example.org`] }))));
report(BENCH, 'write_10000_slivers', performance.now() - start, 'ms', { aim: '< 1000 ms' });

const listTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  start = performance.now();
  const listed = await store.list('Sliver');
  listTimes.push(performance.now() - start);
  if (listed.items.length !== 10_000) throw new Error(`listed ${listed.items.length}`);
}
report(BENCH, 'list_10000_objects', Math.min(...listTimes), 'ms', { runs: 5, statistic: 'min' });

const latencies: number[] = [];
let sentAt = 0;
let resolveDelivery: () => void = () => {};
const watch = store.watch(
  { kind: 'Sliver' },
  {
    onEvent() {
      latencies.push(performance.now() - sentAt);
      resolveDelivery();
    },
  },
);
for (let i = 0; i < 300; i++) {
  const delivered = new Promise<void>((resolve) => (resolveDelivery = resolve));
  sentAt = performance.now();
  await store.create(sliver(`watched${i}`));
  await delivered;
}
watch.stop();
latencies.sort((a, b) => a - b);
report(BENCH, 'watch_delivery_latency_p50', percentile(latencies, 50), 'ms', { note: 'write submitted to event delivered, including the durable commit' });
report(BENCH, 'watch_delivery_latency_p99', percentile(latencies, 99), 'ms');
await store.close();
rmSync(dir, { recursive: true, force: true });
