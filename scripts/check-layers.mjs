#!/usr/bin/env node
// The layering check of `npm test`: dependency-cruiser with the rules in .dependency-cruiser.cjs
// over the product folders. `--root DIR` checks another tree (the test that proves a forbidden
// import fails). Exits non-zero naming each violation.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const FOLDERS = ['schemas', 'resources', 'adapters', 'controller', 'cli'];
const rootIndex = process.argv.indexOf('--root');
const root = rootIndex > 0 ? resolve(process.argv[rootIndex + 1]) : REPO;
const folders = FOLDERS.filter((folder) => existsSync(join(root, folder)));
const result = spawnSync(
  process.execPath,
  [join(REPO, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', join(REPO, '.dependency-cruiser.cjs'), '--output-type', 'err-long', ...folders],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
