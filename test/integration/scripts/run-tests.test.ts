// scripts/run-tests.mjs, interrupted: what a unit or integration test made in its temp dir goes with
// the run, even though node --test ends the test's process before the test could clean up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const REPO = resolve(import.meta.dirname, '../../..');

test('an interrupted run leaves none of its tests’ temp dirs behind', { timeout: 90_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'slv-run-tests-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const report = join(work, 'probe-dir');
  const runner = spawn(process.execPath, [join(REPO, 'scripts/run-tests.mjs'), join(REPO, 'test/integration/scripts/fixtures/holds-a-temp-dir.ts')], {
    // Without NODE_TEST_CONTEXT: node --test sets it for this file, and a nested `node --test` seeing it would act as a file of ours.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, SLV_PROBE_REPORT: report },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => runner.kill('SIGKILL'));
  let output = '';
  runner.stdout.on('data', (chunk) => (output += chunk));
  runner.stderr.on('data', (chunk) => (output += chunk));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((done) => runner.once('close', (code) => done((exitCode = code))));

  while (!existsSync(report) || readFileSync(report, 'utf8') === '') {
    assert.equal(exitCode, undefined, `the runner ended before the test made its temp dir:\n${output}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  const probeDir = readFileSync(report, 'utf8');
  assert.ok(existsSync(probeDir), `the test made ${probeDir}`);
  runner.kill('SIGINT');
  assert.equal(await exited, 130, output);
  assert.match(output, /interrupted by SIGINT/);
  assert.equal(existsSync(probeDir), false, `${probeDir} is left after the interrupted run`);
});
