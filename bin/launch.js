// What bin/slvd.js and bin/slvctl.js share: import an entry module from the compiled build in dist/
// (scripts/build.mjs, run by `npm install`, `npm run build`, `npm start` and `npm test`), or from the
// TypeScript sources through tsx when dist/ is missing or a file the build read is newer than it:
// an edited checkout runs what it holds, slower (tsx compiles at every start), never stale code.
import { readFileSync, statSync } from 'node:fs';

const CHECKOUT = new URL('../', import.meta.url);
/** Written by scripts/build.mjs: the files the build read, dated when it started. */
const BUILD_STAMP = new URL('dist/.build-stamp', CHECKOUT);

/** Imports `entry` (a path under the checkout without extension, e.g. 'cli/main'). */
export async function importEntry(entry) {
  if (buildIsCurrent()) return import(new URL(`dist/${entry}.js`, CHECKOUT).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`${entry}.ts`, CHECKOUT).href);
}

function buildIsCurrent() {
  const built = statSync(BUILD_STAMP, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return false;
  const inputs = JSON.parse(readFileSync(BUILD_STAMP, 'utf8'));
  // A vanished input (renamed or deleted) also means the build no longer matches the checkout.
  return inputs.every((file) => (statSync(new URL(file, CHECKOUT), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= built);
}
