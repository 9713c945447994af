// The layering check catches what docs/architecture.md forbids: each case is a small tree with one
// import across a boundary, checked with the project's own rules (and a tree without it passes).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';

const CHECK = new URL('../../../scripts/check-layers.mjs', import.meta.url).pathname;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A tree of `files` (path → source) with a tsconfig, checked; returns the exit code and output. */
function check(files: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(tmpdir(), 'slv-layers-'));
  dirs.push(root);
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true } }));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  const result = spawnSync(process.execPath, [CHECK, '--root', root], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

const LEAVES = {
  'schemas/types.ts': 'export type Kind = string;\n',
  'resources/rules.ts': "import type { Kind } from '../schemas/types.js';\nexport const kinds: Kind[] = [];\n",
  'adapters/store/sqlite.ts': "import { kinds } from '../../resources/rules.js';\nexport const store = kinds;\n",
  'adapters/api/client/client.ts': "import { kinds } from '../../../resources/rules.js';\nexport const client = kinds;\n",
  'adapters/api/rest/server.ts': 'export const server = 1;\n',
  'controller/runtime/manager.ts': "import { store } from '../../adapters/store/sqlite.js';\nexport const manager = store;\n",
  'controller/daemon/slvd.ts': "import { manager } from '../runtime/manager.js';\nexport const slvd = manager;\n",
  'cli/main.ts': "import { client } from '../adapters/api/client/client.js';\nexport const main = client;\n",
};

test('a tree that keeps the layers passes', () => {
  const { status, output } = check(LEAVES);
  assert.equal(status, 0, output);
  assert.match(output, /no dependency violations/);
});

const FORBIDDEN: Array<[rule: string, path: string, source: string]> = [
  ['resources-are-pure-rules', 'resources/bad.ts', "import { store } from '../adapters/store/sqlite.js';\nexport const bad = store;\n"],
  ['resources-do-no-io', 'resources/bad.ts', "import { readFileSync } from 'node:fs';\nexport const bad = readFileSync;\n"],
  ['schemas-are-the-bottom', 'schemas/bad.ts', "import { kinds } from '../resources/rules.js';\nexport const bad = kinds;\n"],
  ['adapters-do-not-know-their-callers', 'adapters/store/bad.ts', "import { manager } from '../../controller/runtime/manager.js';\nexport const bad = manager;\n"],
  ['cli-uses-the-client-library', 'cli/bad.ts', "import { server } from '../adapters/api/rest/server.js';\nexport const bad = server;\n"],
  ['runtime-knows-no-controllers', 'controller/runtime/bad.ts', "import { slvd } from '../daemon/slvd.js';\nexport const bad = slvd;\n"],
  ['the-client-library-is-not-the-server', 'adapters/api/client/bad.ts', "import { server } from '../rest/server.js';\nexport const bad = server;\n"],
  ['cli-opens-no-tls', 'adapters/api/client/bad.ts', "import { request } from 'node:https';\nexport const bad = request;\n"],
  ['cli-opens-no-tls', 'cli/bad.ts', "import { connect } from 'node:tls';\nexport const bad = connect;\n"],
  ['no-cycles', 'resources/cycle.ts', "import { other } from './other.js';\nexport const cycle = () => other;\n"],
];

for (const [rule, path, source] of FORBIDDEN) {
  test(`a forbidden import fails the check: ${rule} (${path})`, () => {
    const files: Record<string, string> = { ...LEAVES, [path]: source };
    if (rule === 'no-cycles') files['resources/other.ts'] = "import { cycle } from './cycle.js';\nexport const other = () => cycle;\n";
    const { status, output } = check(files);
    assert.notEqual(status, 0, output);
    assert.match(output, new RegExp(`error ${rule}: ${path.replace('.', '\\.')}`));
  });
}
