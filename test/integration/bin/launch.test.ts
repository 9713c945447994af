// bin/launch.js runs the build (its bundle, else dist/) only while the build is current: each case is
// a small checkout with a source, a compiled and (some) a bundled entry that say which one ran, and a
// stamp as scripts/build.mjs writes it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';

const REPO = new URL('../../../', import.meta.url).pathname;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const BUILT = new Date(Date.now() - 60_000);
const BEFORE_BUILD = new Date(BUILT.getTime() - 60_000);
const AFTER_BUILD = new Date(BUILT.getTime() + 30_000);

/** A checkout with cli/main.ts, dist/cli/main.js and (unless `stamp` is false) dist/.build-stamp. */
function checkout(stamp: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'slv-launch-'));
  dirs.push(root);
  const files: Record<string, string> = {
    'package.json': '{"type":"module"}\n',
    'tsconfig.json': '{}\n',
    'tsconfig.build.json': '{}\n',
    'cli/main.ts': "export const ran: string = 'source';\n",
    'dist/cli/main.js': "export const ran = 'compiled';\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    utimesSync(join(root, path), BEFORE_BUILD, BEFORE_BUILD);
  }
  mkdirSync(join(root, 'bin'));
  for (const file of ['bin/launch.js', 'bin/package.json']) copyFileSync(join(REPO, file), join(root, file));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  if (stamp) {
    writeFileSync(join(root, 'dist/.build-stamp'), JSON.stringify(['package.json', 'tsconfig.json', 'tsconfig.build.json', 'cli/main.ts']));
    utimesSync(join(root, 'dist/.build-stamp'), BUILT, BUILT);
  }
  return root;
}

/** Adds a bundle as scripts/build.mjs makes it with esbuild (CommonJS as slvctl's, or an ES module as slvd's), dated with the build. */
function withBundle(root: string, format: 'cjs' | 'mjs' = 'cjs'): string {
  const bundle = join(root, `dist/bundle/slvctl.${format}`);
  mkdirSync(dirname(bundle));
  writeFileSync(bundle, format === 'cjs' ? "exports.ran = 'bundled';\nexports.main = async () => 0;\n" : "export const ran = 'bundled as an ES module';\n");
  utimesSync(bundle, BEFORE_BUILD, BEFORE_BUILD);
  return root;
}

function whichRan(root: string): string {
  const script = `const { importEntry } = await import(${JSON.stringify(join(root, 'bin/launch.js'))}); console.log((await importEntry('cli/main', 'slvctl')).ran);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test('a build newer than every input it read runs compiled', () => {
  assert.equal(whichRan(checkout(true)), 'compiled');
});

test('a current build with a bundle runs the bundle', () => {
  assert.equal(whichRan(withBundle(checkout(true))), 'bundled');
});

test('a current build with an ES module bundle (as slvd has) runs it', () => {
  assert.equal(whichRan(withBundle(checkout(true), 'mjs')), 'bundled as an ES module');
});

test('a bundle of a stale build does not run: the sources do', () => {
  for (const format of ['cjs', 'mjs'] as const) {
    const root = withBundle(checkout(true), format);
    utimesSync(join(root, 'cli/main.ts'), AFTER_BUILD, AFTER_BUILD);
    assert.equal(whichRan(root), 'source');
  }
});

test("the bundle's code cache, as the build writes it, is one V8 accepts; a cache it refuses leaves the bundle running", () => {
  const root = withBundle(checkout(true));
  const launch = join(root, 'bin/launch.js');
  const bundle = join(root, 'dist/bundle/slvctl.cjs');
  const script = `const launch = require(${JSON.stringify(launch)}); launch.writeBundleCache(${JSON.stringify(bundle)}, [['node', 'slvctl']]).then(() => console.log(launch.loadBundle(${JSON.stringify(bundle)}).script.cachedDataRejected));`;
  const written = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(written.status, 0, written.stderr);
  assert.equal(written.stdout.trim(), 'false');
  writeFileSync(`${bundle}.v8-cache`, 'not a code cache');
  assert.equal(whichRan(root), 'bundled');
});

test('without a build stamp the sources run', () => {
  assert.equal(whichRan(checkout(false)), 'source');
});

test('a source edited after the build runs the sources, not the stale build', () => {
  const root = checkout(true);
  utimesSync(join(root, 'cli/main.ts'), AFTER_BUILD, AFTER_BUILD);
  assert.equal(whichRan(root), 'source');
});

test('a changed build configuration makes the build stale', () => {
  const root = checkout(true);
  utimesSync(join(root, 'tsconfig.build.json'), AFTER_BUILD, AFTER_BUILD);
  assert.equal(whichRan(root), 'source');
});

test('an input the build read that is gone makes the build stale', () => {
  const root = checkout(true);
  rmSync(join(root, 'tsconfig.json'));
  assert.equal(whichRan(root), 'source');
});
