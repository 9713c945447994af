// yaml and fast-json-patch load on first use (resources/lazy-modules.ts): a static import of either
// anywhere slvctl's entry reaches would make every start pay for it (yaml alone costs more than the
// rest of slvctl). Node's module debug log names every CommonJS file it loads, both packages' included.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { LAZY_PACKAGES } from '../../../resources/lazy-modules.js';

const SLVCTL = new URL('../../../bin/slvctl.js', import.meta.url).pathname;

test('slvctl --help loads none of the packages it loads on first use', { timeout: 60_000 }, () => {
  const run = spawnSync(process.execPath, [SLVCTL, '--help'], { env: { ...process.env, NODE_DEBUG: 'module' }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr.slice(-2000));
  assert.match(run.stderr, /node_modules\/commander\//, 'the module log names the packages slvctl loads at start');
  for (const name of LAZY_PACKAGES) assert.doesNotMatch(run.stderr, new RegExp(`node_modules/${name}/`), `${name} was loaded at start`);
});
