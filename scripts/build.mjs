#!/usr/bin/env node
// `npm run build` (also run by `npm install`, `npm start` and `npm test`): compiles the product
// folders to dist/ with tsc (tsconfig.build.json, incremental: an unchanged tree takes seconds),
// bundles slvctl and slvd from that output with esbuild (dist/bundle/slvctl.cjs: Node loads one file
// instead of ~40 modules and commander's; dist/bundle/slvd.mjs instead of ~130; skipped when esbuild,
// a devDependency, is absent), then
// writes dist/.build-stamp: the files the build read, dated the time the build STARTED. bin/launch.js
// runs the build only while none of them is newer, so a file edited during or after a build never runs
// stale; listing them saves each start the walk of the folders (a new file counts once imported,
// since the importing file changed too).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = resolve(import.meta.dirname, '..');
const BUILD_STAMP = join(REPO, 'dist', '.build-stamp');
const BUILD_CONFIG = 'tsconfig.build.json';
/** The folders it compiles, and the files besides them that change its output. */
const SOURCE_FOLDERS = JSON.parse(readFileSync(join(REPO, BUILD_CONFIG), 'utf8')).include;
const BUILD_INPUTS = ['package.json', 'tsconfig.json', BUILD_CONFIG, 'scripts/build.mjs'];
/** Where bin/launch.js looks for bundles: two levels under the checkout like dist/'s modules, which resources/checkout.ts counts on. */
const BUNDLE_DIR = join(REPO, 'dist', 'bundle');
/**
 * Packages bundled into slvd with what they import: execa is ~60 ES modules (with its own
 * dependencies), which Node resolved, read, compiled and linked one by one at every start (~0.2 s
 * of CPU, the largest part of loading slvd); none finds files by its own location.
 */
const BUNDLED_INTO_SLVD = ['execa'];

/** The slvctl runs whose compiled code the bundle's code cache keeps. */
const NO_SLVD = '/nonexistent/slvd/api.sock';
const CODE_CACHE_RUNS = [
  ['node', 'slvctl', '--server', NO_SLVD, 'get', 'sl'],
  ['node', 'slvctl', '--server', NO_SLVD, 'version'],
];

const started = new Date();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(REPO, BUILD_CONFIG)], { cwd: REPO, stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write(`build failed (tsc exit ${result.status ?? result.signal}); bin/ keeps running the sources through tsx\n`);
  process.exit(1);
}
await bundleSlvctl();
await bundleSlvd();
const sources = SOURCE_FOLDERS.flatMap((folder) =>
  readdirSync(join(REPO, folder), { recursive: true })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `${folder}/${file}`),
);
writeFileSync(BUILD_STAMP, `${JSON.stringify([...BUILD_INPUTS, ...sources])}\n`);
utimesSync(BUILD_STAMP, started, started);

/**
 * dist/bundle/slvctl.cjs from dist/cli/main.js: commander and slvctl's modules in one CommonJS file,
 * which bin/launch.js loads (no ES module loader to start, no module graph to resolve and link).
 * The lazy packages (resources/lazy-modules.ts) stay outside, required from node_modules on first
 * use: esbuild does not follow a require by a variable name, and marked external they stay outside
 * even if a static import crept in (which test/integration/cli/lazy-packages.test.ts would see).
 * `import.meta.url` becomes the bundle's own URL.
 */
async function bundleSlvctl() {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const esbuild = await esbuildToBundle('slvctl');
  if (!esbuild) return;
  const { LAZY_PACKAGES } = await import(pathToFileURL(join(REPO, 'dist', 'resources', 'lazy-modules.js')).href);
  const { outputFiles } = await esbuild.build({
    write: false,
    entryPoints: { slvctl: join(REPO, 'dist', 'cli', 'main.js') },
    outdir: BUNDLE_DIR,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    external: [...LAZY_PACKAGES],
    define: { 'import.meta.url': 'bundleUrl' },
    plugins: [commanderSpawnsOnDemand()],
    banner: { js: "const bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  writeBundle(outputFiles, join(BUNDLE_DIR, 'slvctl.cjs'));
  writeSlvctlCodeCache();
}

/**
 * dist/bundle/slvd.mjs from dist/controller/daemon/main.js: slvd's ~130 modules in one ES module
 * (Node resolved, read, compiled and linked each: ~0.1 s of CPU at every start), the parts only a
 * fleet uses in chunks beside it that load on first import, as dist/ does. Packages stay outside
 * (imported from node_modules as from dist/: native addons, and package files that find their own
 * files by their location) except BUNDLED_INTO_SLVD. `import.meta.url` is the chunk's, two levels under the checkout like dist/'s
 * modules (resources/checkout.ts). The folder starts empty (bundleSlvctl) and the entry is written
 * last, so a slvd starting during a build finds every chunk its entry names, or no entry (then dist/).
 */
async function bundleSlvd() {
  const esbuild = await esbuildToBundle('slvd');
  if (!esbuild) return;
  const { outputFiles } = await esbuild.build({
    write: false,
    entryPoints: { slvd: join(REPO, 'dist', 'controller', 'daemon', 'main.js') },
    outdir: BUNDLE_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    plugins: [packagesOutsideExcept(BUNDLED_INTO_SLVD)],
    // The CommonJS files of a bundled package (cross-spawn, which) require Node's built-ins.
    banner: { js: "import { createRequire as slvBundleRequire } from 'node:module'; const require = slvBundleRequire(import.meta.url);" },
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  writeBundle(outputFiles, join(BUNDLE_DIR, 'slvd.mjs'));
}

/** Every package import stays outside the bundle (as `packages: 'external'`) except `bundled` and whatever their files import. */
function packagesOutsideExcept(bundled) {
  return {
    name: 'packages-outside-except',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, ({ path, importer }) => {
        const name = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0];
        if (bundled.includes(name) || importer.includes('/node_modules/')) return undefined;
        return { path, external: true };
      });
    },
  };
}

/** esbuild, or undefined (it is a devDependency: a production install) after saying that `program` runs dist/ instead. */
async function esbuildToBundle(program) {
  try {
    return await import('esbuild');
  } catch (error) {
    process.stderr.write(`${program} not bundled (${error.code ?? error.message}: esbuild is a devDependency); bin/${program}.js runs dist/ instead\n`);
    return undefined;
  }
}

/**
 * Each file written aside and renamed into place, `entry` last: a program starting meanwhile reads
 * an old file or a new one, never half of one, and finds every chunk its entry names.
 */
function writeBundle(outputFiles, entry) {
  mkdirSync(BUNDLE_DIR, { recursive: true });
  for (const file of [...outputFiles.filter((f) => f.path !== entry), ...outputFiles.filter((f) => f.path === entry)]) {
    writeFileSync(`${file.path}.tmp`, file.contents);
    renameSync(`${file.path}.tmp`, file.path);
  }
}

/**
 * commander requires child_process when loaded, for the executable subcommands slvctl does not have:
 * ~8 ms of every start. In the bundle it gets an object whose `spawn`, its only use, requires it
 * then. A commander that no longer has that line fails the build, so the change is seen.
 */
function commanderSpawnsOnDemand() {
  const loadTime = "const childProcess = require('node:child_process');";
  const onDemand = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
  return {
    name: 'commander-spawns-on-demand',
    setup(build) {
      build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, ({ path }) => {
        const source = readFileSync(path, 'utf8');
        if (!source.includes(loadTime)) throw new Error(`${path} no longer has ${loadTime}: see commanderSpawnsOnDemand in scripts/build.mjs`);
        return { contents: source.replace(loadTime, onDemand), loader: 'js' };
      });
    },
  };
}

/**
 * dist/bundle/slvctl.cjs.v8-cache: what V8 compiled while slvctl ran `get sl` and `version` (against
 * a socket that does not exist: the commands, the client and the error path), in a plain `node` as
 * bin/slvctl starts it, since V8 refuses a cache made with other flags.
 */
function writeSlvctlCodeCache() {
  const script = `require(${JSON.stringify(join(REPO, 'bin', 'launch.js'))}).writeBundleCache(${JSON.stringify(join(BUNDLE_DIR, 'slvctl.cjs'))}, ${JSON.stringify(
    CODE_CACHE_RUNS,
  )}).then(() => process.exit(0));`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (run.status !== 0) throw new Error(`writing slvctl's code cache failed (exit ${run.status ?? run.signal}): ${run.stderr}`);
}
