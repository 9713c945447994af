// PLC ingest figures: a GetSlivers answer of 1,000 and 10,000 slivers written to stored specs
// (fresh SQLite store in a temp dir), and a repeat of the same answer, which must write nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { PlcStateFile, PlcSync, type GetSliversSource } from '../adapters/plc/index.js';
import { openSqliteStore } from '../adapters/store/sqlite.js';
import { report } from './report.js';

const BENCH = 'plc';
const dir = mkdtempSync(join(tmpdir(), 'slv-bench-plc-'));

/** A realistic answer: keys, a few rspec attributes, an init script, and an extra field per sliver. */
function answer(count: number): unknown {
  const slivers = Array.from({ length: count }, (_, i) => ({
    name: `site${i % 97}_slice${i}`,
    slice_id: 10_000 + i,
    instantiation: 'plc-instantiated',
    expires: 4_102_444_800,
    keys: [{ key_type: 'ssh', key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${i.toString(36).padStart(8, '0')} user${i}@example.org` }],
    attributes: [
      { name: 'cpu_share', value: String(16 + (i % 64)) },
      { name: 'net_max', value: '10000000' },
      { name: 'initscript', value: '#!/bin/sh\necho started\n' },
    ],
  }));
  return [{ timestamp: 1_764_000_000, node_id: 1, hostname: 'bench.example.org', slivers }];
}

for (const count of [1_000, 10_000]) {
  const body = answer(count);
  const source: GetSliversSource = { description: `${count} slivers`, fetch: () => Promise.resolve(structuredClone(body)) };
  const store = openSqliteStore(join(dir, `plc-${count}.db`));
  const sync = new PlcSync({ store, source, state: new PlcStateFile(join(dir, `plc-${count}.json`)), log: pino({ level: 'silent' }) });

  let started = performance.now();
  const first = await sync.syncOnce();
  const ingestMs = performance.now() - started;
  if (first.outcome !== 'applied' || first.created !== count) throw new Error(`ingest of ${count} failed: ${JSON.stringify(first)}`);
  report(BENCH, `ingest_${count}_slivers_ms`, ingestMs, 'ms', { per_sliver_ms: Number((ingestMs / count).toFixed(3)) });

  const revision = store.revision();
  started = performance.now();
  const repeat = await sync.syncOnce();
  const repeatMs = performance.now() - started;
  const written = store.revision() - revision;
  if (repeat.outcome !== 'applied' || written !== 0) throw new Error(`a repeat of ${count} wrote ${written} changes: ${JSON.stringify(repeat)}`);
  report(BENCH, `repeat_${count}_slivers_ms`, repeatMs, 'ms', { writes: written });
  await store.close();
}
rmSync(dir, { recursive: true, force: true });
