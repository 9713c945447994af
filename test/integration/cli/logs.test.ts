// slvctl logs: a sliver's init script output through the REST log subresource (real slvctl
// processes, a real API server, the sim node running the init script as the test says).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ExitCodes } from '../../../resources/errors.js';
import { sliverManifest, startTestApi, type TestApi } from '../../support/api-harness.js';
import { slvctl, startSlvctl } from '../../support/slvctl-harness.js';

const OUTPUT = 'starting codeen\nexec: /usr/local/codeen/bin/proxy: not found\n';

let api: TestApi;
let aliceUid: number;
before(async () => {
  api = await startTestApi();
  for (const [name, result] of [
    ['codeen', { exitCode: 127, output: OUTPUT }],
    ['server', { output: 'serving on :80\n' }],
    ['alice', { exitCode: 0, output: 'hello\n' }],
  ] as const) {
    const { uid } = await api.node.createAccount(name, 'sliver');
    if (name === 'alice') aliceUid = uid;
    await api.node.setInitscript(name, '#!/bin/sh\n');
    api.node.setInitscriptResult(name, result);
    await api.node.start(name);
    await api.store.create(sliverManifest(name));
  }
  await api.store.create(sliverManifest('fresh')); // no account yet
});
after(async () => {
  await api.close();
});

test('logs prints the whole output of the last run; -f ends when the script has exited; a sliver without output prints nothing', { timeout: 60_000 }, async () => {
  const run = (args: string[]) => slvctl(args, { socket: api.socketPath });
  const [plain, followed, slash, fresh] = await Promise.all([run(['logs', 'sliver', 'codeen']), run(['logs', 'sl', 'codeen', '-f']), run(['logs', 'sliver/codeen']), run(['logs', 'sl', 'fresh'])]);
  for (const result of [plain, followed, slash]) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, OUTPUT);
  }
  assert.deepEqual([fresh.code, fresh.stdout], [0, '']);
});

test('logs -f of a script still running keeps the stream open until the sliver goes', { timeout: 60_000 }, async () => {
  const follow = startSlvctl(['logs', 'sliver', 'server', '--follow'], { socket: api.socketPath });
  await follow.until(/serving on :80\n/);
  await api.store.delete('Sliver', 'server');
  const result = await follow.done;
  assert.deepEqual([result.code, result.stdout], [0, 'serving on :80\n'], result.stderr);
});

test('logs: unknown sliver, not a sliver, two names, and authorization as get on the sliver', { timeout: 60_000 }, async (t) => {
  const run = (args: string[]) => slvctl(args, { socket: api.socketPath });
  const [missing, delegate, two] = await Promise.all([run(['logs', 'sliver', 'nobody']), run(['logs', 'dg', 'x']), run(['logs', 'sliver', 'a', 'b'])]);
  assert.equal(missing.code, ExitCodes.notFound);
  assert.equal(missing.stderr, 'error: sliver "nobody" not found\n');
  assert.equal(delegate.code, ExitCodes.usage);
  assert.match(delegate.stderr, /slvctl logs works on slivers only, not delegates/);
  assert.equal(two.code, ExitCodes.usage);
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run slvctl as another uid');
    return;
  }
  const [own, other] = await Promise.all([slvctl(['logs', 'sl', 'alice'], { socket: api.socketPath, uid: aliceUid }), slvctl(['logs', 'sl', 'codeen'], { socket: api.socketPath, uid: aliceUid })]);
  assert.deepEqual([own.code, own.stdout], [0, 'hello\n'], own.stderr);
  assert.equal(other.code, ExitCodes.forbidden);
  assert.match(other.stderr, /user "alice" \(uid \d+\) may not read sliver "codeen"/);
});
