#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with node:test through tsx. Node 20's test runner has no
// globbing, so the files are listed here and passed explicitly. Arguments select files instead.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? testFiles(join(dir, entry.name)) : entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : []))
    .sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2) : testFiles('test');
// One file at a time, whatever the core count: several root tests change the host (accounts in
// /etc/passwd, /etc/shells, network namespaces) while others assert it is unchanged.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
