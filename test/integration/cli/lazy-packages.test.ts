// yaml and fast-json-patch load on first use (resources/lazy-modules.ts): a static import of either
// anywhere slvctl's entry reaches would make every start pay for it (yaml alone costs more than the
// rest of slvctl), and a bundler that followed them would put them in dist/bundle/slvctl.cjs.
// Node's module debug log names every CommonJS file it loads, the lazy packages' included, and every
// built-in module required; child_process, which only `slvctl edit` uses, is one of those kept out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { LAZY_PACKAGES } from '../../../resources/lazy-modules.js';

const SLVCTL = new URL('../../../bin/slvctl.js', import.meta.url).pathname;

/** What Node's module log says slvctl loaded running `args`. */
function moduleLog(args: string[]): string {
  const run = spawnSync(process.execPath, [SLVCTL, ...args], { env: { ...process.env, NODE_DEBUG: 'module' }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr.slice(-2000));
  return run.stderr;
}

test('slvctl --help loads none of the packages it loads on first use', { timeout: 60_000 }, () => {
  const log = moduleLog(['--help']);
  for (const name of LAZY_PACKAGES) assert.doesNotMatch(log, new RegExp(`node_modules/${name}/`), `${name} was loaded at start`);
});

test('slvctl --help does not load child_process (commander wants it only for executable subcommands)', { timeout: 60_000 }, () => {
  assert.doesNotMatch(moduleLog(['--help']), /load built-in module (node:)?child_process/);
});

test('a command that prints YAML loads yaml from node_modules, where the log sees it', { timeout: 60_000 }, () => {
  assert.match(moduleLog(['config', 'kubeconfig', '--port', '6443']), /node_modules\/yaml\//);
});
