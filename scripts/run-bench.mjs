#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts in turn. Each prints one JSON object per line
// ({"bench": ..., "metric": ..., "value": ..., "unit": ...}); human notes go to stderr.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync('bench')
        .filter((f) => f.endsWith('.bench.ts'))
        .sort()
        .map((f) => `bench/${f}`);
let failed = 0;
for (const file of files) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', file], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    process.stderr.write(`bench ${file} failed (exit ${result.status ?? result.signal})\n`);
  }
}
process.exit(failed ? 1 : 0);
