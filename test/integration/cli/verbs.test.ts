// The imperative verbs as real slvctl processes against a real API server (SQLite store): start,
// stop and recreate change spec.run as XML-RPC Start/Stop/ReCreate do; patch (merge and json),
// label, annotate; explain; edit reopening the editor on an invalid object.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCodes } from '../../../resources/errors.js';
import { sliverManifest, startTestApi, type TestApi } from '../../support/api-harness.js';
import { slvctl } from '../../support/slvctl-harness.js';

let api: TestApi;
let run: (args: string[], env?: Record<string, string>) => ReturnType<typeof slvctl>;
before(async () => {
  api = await startTestApi();
  run = (args, env) => slvctl(args, { socket: api.socketPath, ...(env ? { env } : {}) });
  await api.store.create(sliverManifest('alice', { rspec: { cpu_share: 32 } }, { labels: { team: 'red' } }));
  await api.store.create(sliverManifest('bob'));
});
after(async () => {
  await api.close();
});

test('start, stop and recreate set spec.run; start and recreate bump their counters each time', { timeout: 60_000 }, async () => {
  const stopped = await run(['stop', 'sliver', 'alice', 'bob']);
  assert.equal(stopped.stdout, 'sliver/alice stop requested\nsliver/bob stop requested\n', stopped.stderr);
  assert.deepEqual((await api.store.get('Sliver', 'bob')).spec.run, { state: 'Stopped' });
  const started = await run(['start', 'sl/alice']);
  assert.equal(started.stdout, 'sliver/alice start requested\n', started.stderr);
  await run(['start', 'sl', 'alice']);
  await run(['recreate', 'sliver', 'alice']);
  assert.deepEqual((await api.store.get('Sliver', 'alice')).spec.run, { state: 'Running', start: 2, recreate: 1 });
  const [notSliver, noName, missing] = await Promise.all([run(['start', 'dg', 'x']), run(['stop', 'sliver']), run(['stop', 'sliver', 'nobody'])]);
  assert.equal(notSliver.code, ExitCodes.usage);
  assert.match(notSliver.stderr, /only slivers can be started, stopped or recreated, not delegates/);
  assert.equal(noName.code, ExitCodes.usage);
  assert.equal(missing.code, ExitCodes.notFound);
  assert.equal(missing.stderr, 'error: sliver "nobody" not found\n');
});

test('patch: merge by default, json with --type json, "no change" when nothing changed, clear errors', { timeout: 60_000 }, async () => {
  const merged = await run(['patch', 'sl', 'alice', '-p', '{"spec":{"rspec":{"cpu_share":40}}}']);
  assert.equal(merged.stdout, 'sliver/alice patched\n', merged.stderr);
  assert.equal((await api.store.get('Sliver', 'alice')).spec.rspec.cpu_share, 40);
  const yaml = await run(['patch', 'sl', 'alice', '-p', 'spec: {rspec: {cpu_share: 40}}']);
  assert.equal(yaml.stdout, 'sliver/alice patched (no change)\n', yaml.stderr);
  const json = await run(['patch', 'sl', 'alice', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/rspec/cpu_share","value":48},{"op":"add","path":"/spec/run/state","value":"Stopped"}]']);
  assert.equal(json.stdout, 'sliver/alice patched\n', json.stderr);
  const alice = await api.store.get('Sliver', 'alice');
  assert.equal(alice.spec.rspec.cpu_share, 48);
  assert.equal(alice.spec.run?.state, 'Stopped');
  const [invalid, notList, badType, failing] = await Promise.all([
    run(['patch', 'sl', 'alice', '-p', '{"spec":{"rspec":{"cpu_share":"lots"}}}']),
    run(['patch', 'sl', 'alice', '--type', 'json', '-p', '{"spec":{}}']),
    run(['patch', 'sl', 'alice', '--type', 'strategic', '-p', '{}']),
    run(['patch', 'sl', 'alice', '--type', 'json', '-p', '[{"op":"test","path":"/spec/type","value":"other"}]']),
  ]);
  assert.equal(invalid.code, ExitCodes.invalid);
  assert.match(invalid.stderr, /^error: Sliver "alice" is invalid: spec\.rspec\.cpu_share: must be integer\n$/);
  assert.equal(notList.code, ExitCodes.invalid);
  assert.match(notList.stderr, /a JSON patch \(--type json\) must be a list of operations/);
  assert.equal(badType.code, ExitCodes.usage);
  assert.match(badType.stderr, /invalid --type "strategic": expected merge or json/);
  assert.equal(failing.code, ExitCodes.invalid);
  assert.match(failing.stderr, /the JSON patch cannot be applied/);
  assert.equal((await api.store.get('Sliver', 'alice')).spec.rspec.cpu_share, 48, 'a failed patch changes nothing');
});

test('label and annotate: set, remove, --overwrite to change a value', { timeout: 60_000 }, async () => {
  const added = await run(['label', 'sl', 'alice', 'tier=gold', 'team-']);
  assert.equal(added.stdout, 'sliver/alice labeled\n', added.stderr);
  assert.deepEqual((await api.store.get('Sliver', 'alice')).metadata.labels, { tier: 'gold' });
  const clash = await run(['label', 'sl', 'alice', 'tier=silver']);
  assert.equal(clash.code, ExitCodes.usage);
  assert.equal(clash.stderr, 'error: sliver/alice: tier already has the value "gold"; use --overwrite to change it\n');
  const overwritten = await run(['label', 'sl', 'alice', 'tier=silver', '--overwrite']);
  assert.equal(overwritten.stdout, 'sliver/alice labeled\n', overwritten.stderr);
  const same = await run(['label', 'sl', 'alice', 'tier=silver']);
  assert.equal(same.stdout, 'sliver/alice not labeled\n', 'the same value is no change');
  const annotated = await run(['annotate', 'sl', 'alice', 'note=moved from node 3']);
  assert.equal(annotated.stdout, 'sliver/alice annotated\n', annotated.stderr);
  const alice = await api.store.get('Sliver', 'alice');
  assert.deepEqual([alice.metadata.labels, alice.metadata.annotations], [{ tier: 'silver' }, { note: 'moved from node 3' }]);
  const selected = await run(['get', 'sl', '-l', 'tier=silver', '-o', 'name']);
  assert.equal(selected.stdout, 'sliver/alice\n');
});

test('explain reads the schemas', { timeout: 30_000 }, async () => {
  const { code, stdout, stderr } = await run(['explain', 'sliver.spec.run']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^FIELD:    run <object>\n/m);
  assert.match(stdout, /^  state\s+<string>\s+one of Running, Stopped\s+Running or Stopped\. Absent: Running/m);
  const unknown = await run(['explain', 'sliver.spec.nope']);
  assert.equal(unknown.code, ExitCodes.usage);
});

test('edit reopens the editor with the error on an invalid object, and applies the fixed one', { timeout: 60_000 }, async (t) => {
  // An editor that breaks the object the first time and fixes it the second, keeping what it saw.
  const editor = join(api.dir, 'editor.sh');
  const seen = join(api.dir, 'seen');
  writeFileSync(
    editor,
    `#!/bin/sh
n=$(cat "${seen}.count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${seen}.count"
cp "$1" "${seen}.$n"
if [ $n = 1 ]; then sed -i 's/cpu_share: 48/cpu_share: lots/' "$1"; else sed -i 's/cpu_share: lots/cpu_share: 56/' "$1"; fi
`,
  );
  chmodSync(editor, 0o755);
  const edited = await run(['edit', 'sl', 'alice'], { EDITOR: editor });
  assert.equal(edited.code, 0, edited.stderr);
  assert.equal(edited.stdout, 'sliver/alice edited\n');
  assert.equal((await api.store.get('Sliver', 'alice')).spec.rspec.cpu_share, 56);
  const second = readFileSync(`${seen}.2`, 'utf8');
  assert.match(second, /^# The edit was not saved: Sliver "alice" is invalid: spec\.rspec\.cpu_share: must be integer$/m);
  assert.match(second, /cpu_share: lots/, 'the second opening keeps the edit');

  // Saving the broken text again unchanged gives up, keeps the file and changes nothing.
  const stubborn = join(api.dir, 'stubborn.sh');
  writeFileSync(stubborn, `#!/bin/sh\ngrep -q 'not saved' "$1" || sed -i 's/cpu_share: 56/cpu_share: lots/' "$1"\n`);
  chmodSync(stubborn, 0o755);
  const givenUp = await run(['edit', 'sl', 'alice'], { EDITOR: stubborn });
  assert.equal(givenUp.code, ExitCodes.invalid);
  const kept = /your changes are kept in (\S+)\n$/.exec(givenUp.stderr)?.[1];
  assert.ok(kept, givenUp.stderr);
  t.after(() => rmSync(dirname(kept), { recursive: true, force: true }));
  assert.match(readFileSync(kept, 'utf8'), /cpu_share: lots/);
  assert.equal((await api.store.get('Sliver', 'alice')).spec.rspec.cpu_share, 56);
});
