#!/usr/bin/env node
// `npm test`: runs test/**/*.test.ts with node:test through tsx, tier by tier (docs/testing.md):
//   test/unit/         pure, no processes or sockets: files in parallel
//   test/integration/  processes, sockets, temp dirs, but never host state: files in parallel
//   test/root/         change the host (accounts, /etc/shells, namespaces, nft, cgroups, sshd):
//                      one file at a time, since some assert the host is unchanged
// Arguments select files instead (run in the tier each belongs to). Ends with one closing line:
// `tests: N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const TIERS = [
  { name: 'unit', concurrency: availableParallelism() },
  { name: 'integration', concurrency: availableParallelism() },
  { name: 'root', concurrency: 1 },
];

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? testFiles(join(dir, entry.name)) : entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : []))
    .sort();
}

const selected = process.argv.length > 2 ? process.argv.slice(2).map((file) => resolve(file)) : testFiles(join(REPO, 'test'));
const tierOf = (file) => relative(join(REPO, 'test'), file).split('/')[0];
const unknown = selected.filter((file) => !TIERS.some((tier) => tier.name === tierOf(file)));
if (unknown.length > 0) {
  console.error(`not in a test tier (test/unit, test/integration, test/root): ${unknown.join(', ')}`);
  process.exit(2);
}

const tapDir = mkdtempSync(join(tmpdir(), 'slv-test-'));
const totals = { pass: 0, fail: 0, skipped: 0 };
let failedRun = false;
try {
  for (const tier of TIERS) {
    const files = selected.filter((file) => tierOf(file) === tier.name);
    if (files.length === 0) continue;
    const tap = join(tapDir, `${tier.name}.tap`);
    console.log(`\n# ${tier.name}: ${files.length} file(s), ${tier.concurrency === 1 ? 'one at a time' : `${tier.concurrency} at a time`}`);
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${tier.concurrency}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
      { stdio: 'inherit', cwd: REPO },
    );
    if (result.status !== 0) failedRun = true;
    const text = readFileSync(tap, 'utf8');
    for (const key of Object.keys(totals)) totals[key] += Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  }
} finally {
  rmSync(tapDir, { recursive: true, force: true });
}
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(failedRun || totals.fail > 0 ? 1 : 0);
