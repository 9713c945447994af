#!/usr/bin/env node
// `npm run build` (also run by `npm install`, `npm start` and `npm test`): compiles the product
// folders to dist/ with tsc (tsconfig.build.json, incremental: an unchanged tree takes seconds), then
// writes dist/.build-stamp: the files the build read, dated the time the build STARTED. bin/launch.js
// runs dist/ only while none of them is newer, so a file edited during or after a build never runs
// stale; listing them saves each start the walk of the folders (a new file counts once imported,
// since the importing file changed too).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const BUILD_STAMP = join(REPO, 'dist', '.build-stamp');
const BUILD_CONFIG = 'tsconfig.build.json';
/** The folders it compiles, and the files besides them that change its output. */
const SOURCE_FOLDERS = JSON.parse(readFileSync(join(REPO, BUILD_CONFIG), 'utf8')).include;
const BUILD_INPUTS = ['package.json', 'tsconfig.json', BUILD_CONFIG];

const started = new Date();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(REPO, BUILD_CONFIG)], { cwd: REPO, stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write(`build failed (tsc exit ${result.status ?? result.signal}); bin/ keeps running the sources through tsx\n`);
  process.exit(1);
}
const sources = SOURCE_FOLDERS.flatMap((folder) =>
  readdirSync(join(REPO, folder), { recursive: true })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `${folder}/${file}`),
);
writeFileSync(BUILD_STAMP, `${JSON.stringify([...BUILD_INPUTS, ...sources])}\n`);
utimesSync(BUILD_STAMP, started, started);
