// What bin/slvd.js and bin/slvctl.js share: load an entry module from the compiled build
// (scripts/build.mjs, run by `npm install`, `npm run build`, `npm start` and `npm test`): its bundle
// in dist/bundle/ when the build made one, else dist/; or from the TypeScript sources through tsx
// when dist/ is missing or a file the build read is newer than it: an edited checkout runs what it
// holds, slower (tsx compiles at every start), never stale code. bin/ is CommonJS (bin/package.json):
// Node starts a CommonJS program without its ES module loader, ~20 ms sooner (docs/performance.md).
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const CHECKOUT = join(__dirname, '..');
/** Written by scripts/build.mjs: the files the build read, dated when it started. */
const BUILD_STAMP = join(CHECKOUT, 'dist', '.build-stamp');

/**
 * The file `entry` (a path under the checkout without extension, e.g. 'cli/main') runs from: with
 * `bundle`, dist/bundle/<bundle>.cjs (CommonJS, slvctl) or .mjs (an ES module, slvd) when the current
 * build made it (esbuild is a devDependency).
 */
function entryFile(entry, bundle) {
  if (!buildIsCurrent()) return join(CHECKOUT, `${entry}.ts`);
  const bundles = bundle === undefined ? [] : ['cjs', 'mjs'].map((extension) => join(CHECKOUT, 'dist', 'bundle', `${bundle}.${extension}`));
  return bundles.find((file) => statSync(file, { throwIfNoEntry: false })) ?? join(CHECKOUT, 'dist', `${entry}.js`);
}

/** Resolves to the exports of `entry`, loaded from entryFile(). */
async function importEntry(entry, bundle) {
  const file = entryFile(entry, bundle);
  if (file.endsWith('.cjs')) return loadBundle(file).exports;
  if (file.endsWith('.ts')) (await import('tsx/esm/api')).register();
  return import(pathToFileURL(file).href);
}

/** A CommonJS module's wrapper, as Node's own loader puts around a file. */
const wrap = (source) => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

/**
 * Runs a bundle as Node would require it, but compiled with the V8 code cache written beside it by
 * writeBundleCache (at build time): V8 then skips parsing and compiling what the cache holds (the
 * bundle's compile alone was ~12 ms of slvctl's start, its functions' more as they first ran). A
 * cache V8 does not accept (another Node, other V8 flags, a changed file) is ignored and the source
 * compiled as usual.
 */
function loadBundle(file) {
  const cachedData = statSync(`${file}.v8-cache`, { throwIfNoEntry: false }) ? readFileSync(`${file}.v8-cache`) : undefined;
  const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script };
}

/**
 * scripts/build.mjs: runs a bundle's `main` with each of `argvs` (their output is the caller's to
 * discard), then writes the V8 code cache of everything compiled so far to `<file>.v8-cache`.
 */
async function writeBundleCache(file, argvs) {
  const { exports, script } = loadBundle(file);
  for (const argv of argvs) await exports.main(argv);
  writeFileSync(`${file}.v8-cache`, script.createCachedData());
}

function buildIsCurrent() {
  const built = statSync(BUILD_STAMP, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return false;
  const inputs = JSON.parse(readFileSync(BUILD_STAMP, 'utf8'));
  // A vanished input (renamed or deleted) also means the build no longer matches the checkout.
  return inputs.every((file) => (statSync(join(CHECKOUT, file), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= built);
}

module.exports = { entryFile, importEntry, loadBundle, writeBundleCache };
