// adapters/support/exec.ts: real processes; failures quote the command line and stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCommand, runCommand } from '../../../../adapters/support/exec.js';
import { CommandError } from '../../../../resources/errors.js';

const TIMEOUT = { timeout: 20_000 };

test('a successful command returns its output', TIMEOUT, async () => {
  const result = await runCommand('/bin/sh', ['-c', 'echo out; echo err >&2']);
  assert.deepEqual(result, { stdout: 'out\n', stderr: 'err\n', exitCode: 0 });
  assert.equal((await runCommand('/bin/cat', [], { input: 'fed on stdin' })).stdout, 'fed on stdin');
});

test('a failing command rejects with the quoted command, exit code and stderr', TIMEOUT, async () => {
  const error = await runCommand('/bin/sh', ['-c', "echo 'no such user' >&2; exit 6", 'arg with space']).catch((e: unknown) => e);
  assert.ok(error instanceof CommandError);
  assert.equal(error.exitCode, 6);
  assert.equal(error.stderr, 'no such user\n');
  assert.equal(error.command, `/bin/sh -c 'echo '\\''no such user'\\'' >&2; exit 6' 'arg with space'`);
  assert.match(error.message, /^command failed: \/bin\/sh -c .* \(exit 6\): no such user$/);
});

test('allowed exit codes are answers, not failures', TIMEOUT, async () => {
  assert.equal((await runCommand('/bin/sh', ['-c', 'exit 1'], { okExitCodes: [1] })).exitCode, 1);
  await assert.rejects(runCommand('/bin/sh', ['-c', 'exit 2'], { okExitCodes: [1] }), CommandError);
});

test('a missing program and a timeout are CommandErrors naming the command', TIMEOUT, async () => {
  await assert.rejects(runCommand('/nonexistent/vuseradd', ['x']), (e: unknown) => e instanceof CommandError && /\/nonexistent\/vuseradd x: .*ENOENT/.test(e.message));
  await assert.rejects(runCommand('/bin/sleep', ['30'], { timeoutMs: 200 }), (e: unknown) => e instanceof CommandError && /\/bin\/sleep 30: timed out after 200 ms/.test(e.message));
});

test('formatCommand quotes only what a shell would need quoted', TIMEOUT, () => {
  assert.equal(formatCommand('useradd', ['-P', '/tmp/r', '-s', '/bin/vsh', 'pl_1']), 'useradd -P /tmp/r -s /bin/vsh pl_1');
  assert.equal(formatCommand('echo', ['', "it's"]), `echo '' 'it'\\''s'`);
});
