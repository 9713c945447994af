// PLC ingest figures: a GetSlivers answer of 1,000 and 10,000 slivers, in the 2006 form and in
// today's (tagname attributes, initscripts, one bad record per thousand that is skipped), written to
// stored specs (fresh SQLite store in a temp dir), and a repeat of the same answer, which must
// write nothing.
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

/** A realistic 2006 answer: keys, a few rspec attributes, an init script, and an extra field per sliver. */
function answer2006(count: number): unknown {
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

/** Today's answer of the same size; every thousandth record has a name PLC cannot mean (skipped). */
function answerToday(count: number): unknown {
  const slivers = Array.from({ length: count }, (_, i) => ({
    name: i % 1000 === 999 ? `Bad Name ${i}` : `${i % 97}site_slice${i}`,
    slice_id: 10_000 + i,
    instantiation: 'plc-instantiated',
    expires: 4_102_444_800,
    keys: [{ key_type: 'ssh', key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${i.toString(36).padStart(8, '0')} user${i}@example.org` }],
    attributes: [
      { tagname: 'cpu_share', value: String(16 + (i % 64)) },
      { tagname: 'net_max_rate', value: '10000' },
      { tagname: 'initscript', value: 'boot' },
      { tagname: 'vref', value: 'lxc-f37' },
    ],
    GetSliceFamily: 'lxc-f37-x86_64',
  }));
  return {
    timestamp: 1_764_000_000,
    node_id: 1,
    hostname: 'bench.example.org',
    interfaces: [{ is_primary: true, bwlimit: 100_000_000 }],
    initscripts: [{ name: 'boot', enabled: true, script: '#!/bin/sh\necho started\n' }],
    accounts: [{ name: 'root', keys: [] }],
    conf_files: [],
    reservation_policy: 'none',
    leases: [],
    slivers,
  };
}

for (const [form, count] of [
  ['2006', 1_000],
  ['2006', 10_000],
  ['today', 1_000],
  ['today', 10_000],
] as const) {
  const body = form === '2006' ? answer2006(count) : answerToday(count);
  const expected = form === '2006' ? count : count - count / 1000 + 1; // skipped records; the NodeConfig
  const source: GetSliversSource = { description: `${count} slivers`, fetch: () => Promise.resolve(structuredClone(body)) };
  const store = openSqliteStore(join(dir, `plc-${form}-${count}.db`));
  const sync = new PlcSync({ store, source, state: new PlcStateFile(join(dir, `plc-${form}-${count}.json`)), log: pino({ level: 'silent' }) });
  const prefix = form === '2006' ? '' : 'today_';

  let started = performance.now();
  const first = await sync.syncOnce();
  const ingestMs = performance.now() - started;
  if (first.outcome !== 'applied' || first.created !== expected) throw new Error(`ingest of ${count} (${form}) failed: ${JSON.stringify({ ...first, skipped: first.skipped.length })}`);
  report(BENCH, `${prefix}ingest_${count}_slivers_ms`, ingestMs, 'ms', { per_sliver_ms: Number((ingestMs / count).toFixed(3)) });

  const revision = store.revision();
  started = performance.now();
  const repeat = await sync.syncOnce();
  const repeatMs = performance.now() - started;
  const written = store.revision() - revision;
  if (repeat.outcome !== 'applied' || written !== 0) throw new Error(`a repeat of ${count} (${form}) wrote ${written} changes: ${JSON.stringify({ ...repeat, skipped: repeat.skipped.length })}`);
  report(BENCH, `${prefix}repeat_${count}_slivers_ms`, repeatMs, 'ms', { writes: written });
  await store.close();
}
rmSync(dir, { recursive: true, force: true });
