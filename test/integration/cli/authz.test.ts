// slvctl run as a sliver's own account (another uid): allowed on its own sliver, refused on others.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCodes } from '../../../resources/errors.js';
import { sliverManifest, startTestApi, type TestApi } from '../../support/api-harness.js';
import { slvctl } from '../../support/slvctl-harness.js';

let api: TestApi;
let aliceUid: number;
before(async () => {
  api = await startTestApi();
  aliceUid = (await api.node.createAccount('alice', 'sliver')).uid;
  await api.node.createAccount('bob', 'sliver');
  await api.store.create(sliverManifest('alice'));
  await api.store.create(sliverManifest('bob'));
});
after(async () => {
  await api.close();
});

test("as alice: get and stop her own sliver, refused reading or changing bob's", { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run slvctl as another uid');
    return;
  }
  const asAlice = (args: string[]) => slvctl(args, { socket: api.socketPath, uid: aliceUid });
  const stopAlice = join(api.dir, 'stop-alice.yaml');
  const stopBob = join(api.dir, 'stop-bob.yaml');
  const runState = (name: string) => `apiVersion: nm.planet-lab.org/v1\nkind: Sliver\nmetadata: {name: ${name}}\nspec:\n  run: {state: Stopped}\n`;
  writeFileSync(stopAlice, runState('alice'));
  writeFileSync(stopBob, runState('bob'));

  const [own, list, other, applyOwn, applyOther] = await Promise.all([
    asAlice(['get', 'sl', 'alice', '-o', 'name']),
    asAlice(['get', 'sl', '-o', 'name']),
    asAlice(['get', 'sl', 'bob']),
    asAlice(['apply', '-f', stopAlice]),
    asAlice(['apply', '-f', stopBob]),
  ]);
  assert.equal(own.stdout, 'sliver/alice\n', own.stderr);
  assert.equal(list.stdout, 'sliver/alice\n', 'a list shows only her own sliver');
  assert.equal(other.code, ExitCodes.forbidden);
  assert.equal(
    other.stderr,
    `error: user "alice" (uid ${aliceUid}) may not read sliver "bob": only root, the account "bob" or a delegation on sliver "bob" allowing GetRSpec or GetEffectiveRSpec or GetRecord may\n`,
  );
  assert.equal(applyOwn.code, 0, applyOwn.stderr);
  assert.equal(applyOwn.stdout, 'sliver/alice configured\n');
  assert.equal(applyOther.code, ExitCodes.forbidden);
  // Refused before her configuration is merged into bob's sliver: she is nobody to bob.
  assert.match(
    applyOther.stderr,
    /^error: sliver\/bob \(.*stop-bob\.yaml\): user "alice" \(uid \d+\) may not update sliver "bob": only root, the account "bob" or an account a delegation on sliver "bob" names may/,
  );
  assert.equal((await api.store.get('Sliver', 'alice')).spec.run?.state, 'Stopped');
  assert.equal((await api.store.get('Sliver', 'bob')).spec.run, undefined);
});
