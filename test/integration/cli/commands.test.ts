// slvctl as a real process against a real API server (SQLite store, sim node): apply/get/describe/
// diff/wait/delete/edit/loans round trips, apply idempotence, watch output, exit codes, bad input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCodes } from '../../../resources/errors.js';
import type { WatchEvent } from '../../../adapters/store/contract.js';
import { API_VERSION, type Sliver } from '../../../schemas/types.js';
import { startTestApi, type TestApi } from '../../support/api-harness.js';
import { slvctl, startSlvctl } from '../../support/slvctl-harness.js';

let api: TestApi;
let run: (args: string[], input?: string, env?: Record<string, string>) => ReturnType<typeof slvctl>;
before(async () => {
  api = await startTestApi();
  run = (args, input, env) => slvctl(args, { socket: api.socketPath, ...(input === undefined ? {} : { input }), ...(env ? { env } : {}) });
});
after(async () => {
  await api.close();
});

function sliverYaml(name: string, extra = '', labels = ''): string {
  return `apiVersion: ${API_VERSION}
kind: Sliver
metadata:
  name: ${name}
${labels ? `  labels:\n${labels}` : ''}spec:
  type: sliver.VServer
  instantiation: plc-instantiated
  keys: ["ssh-ed25519 AAAA ${name}"]
  initscript: ""
  rspec: {cpu_share: 32}
  delegations: []
  timestamp: 0
  attributes: {}
${extra}`;
}

function file(name: string, text: string): string {
  const path = join(api.dir, name);
  writeFileSync(path, text);
  return path;
}

const CONDITION_TIME = '2026-01-01T00:00:00Z';

test('apply a multi-document file: created, then unchanged, then configured', { timeout: 60_000 }, async () => {
  const path = file('two.yaml', `${sliverYaml('alpha', '', '    team: red\n')}---\n${sliverYaml('beta', '', '    team: blue\n')}`);
  const first = await run(['apply', '-f', path]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'sliver/alpha created\nsliver/beta created\n');
  const second = await run(['apply', '-f', path]);
  assert.equal(second.stdout, 'sliver/alpha unchanged\nsliver/beta unchanged\n');
  const changed = file('two-changed.yaml', `${sliverYaml('alpha', '', '    team: red\n').replace('cpu_share: 32', 'cpu_share: 40')}---\n${sliverYaml('beta', '', '    team: blue\n')}`);
  const dry = await run(['apply', '-f', changed, '--dry-run=server']);
  assert.equal(dry.stdout, 'sliver/alpha configured (server dry run)\nsliver/beta unchanged (server dry run)\n');
  assert.equal((await api.store.get('Sliver', 'alpha')).spec.rspec.cpu_share, 32, 'a dry run changes nothing');
  const third = await run(['apply', '-f', changed]);
  assert.equal(third.stdout, 'sliver/alpha configured\nsliver/beta unchanged\n');
  assert.equal((await api.store.get('Sliver', 'alpha')).spec.rspec.cpu_share, 40);
  // JSON on stdin, as a List.
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [(await api.store.get('Sliver', 'beta')) as Sliver] });
  const fromStdin = await run(['apply', '-f', '-'], list);
  assert.equal(fromStdin.stdout, 'sliver/beta unchanged\n', fromStdin.stderr);
});

test('get: aligned tables, wide, yaml, json, name, jsonpath, label selectors, short names', { timeout: 60_000 }, async () => {
  const [tableRun, wide, json, names, path, selected, yaml] = await Promise.all([
    run(['get', 'slivers']),
    run(['get', 'sl', '-o', 'wide']),
    run(['get', 'sliver', 'alpha', '-o', 'json']),
    run(['get', 'sl', '-o', 'name']),
    run(['get', 'sl', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.rspec.cpu_share}{"\\n"}{end}']),
    run(['get', 'sl', '-l', 'team=blue', '-o', 'name']),
    run(['get', 'sl', 'beta', '-o', 'yaml']),
  ]);
  const lines = tableRun.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NAME\s+READY\s+STATUS\s+XID\s+INSTANTIATION\s+AGE$/);
  assert.equal(lines.length, 3);
  const column = (line: string, header: string) => line.slice(lines[0]!.indexOf(header)).split(/\s+/)[0];
  assert.deepEqual(
    lines.slice(1).map((l) => column(l, 'INSTANTIATION')),
    ['plc-instantiated', 'plc-instantiated'],
    'columns line up',
  );
  assert.match(wide.stdout.split('\n')[0]!, /CPU_SHARE\s+CPU_MIN\s+NET_MAX\s+EXPIRES\s+DELEGATIONS$/);
  assert.equal((JSON.parse(json.stdout) as Sliver).spec.rspec.cpu_share, 40);
  assert.equal((JSON.parse(json.stdout) as Sliver).metadata.managedFields, undefined, 'managedFields are not shown');
  assert.equal(names.stdout, 'sliver/alpha\nsliver/beta\n');
  assert.equal(path.stdout, 'alpha=40\nbeta=32\n');
  assert.equal(selected.stdout, 'sliver/beta\n');
  assert.match(yaml.stdout, /^apiVersion: nm\.planet-lab\.org\/v1\nkind: Sliver\n/);
  assert.ok(!tableRun.stdout.includes('\u001b['), 'no colour when stdout is not a terminal');
});

test('describe shows spec, status, conditions, loans and recent events', { timeout: 30_000 }, async () => {
  const alpha = await api.store.get('Sliver', 'alpha');
  await api.store.updateStatus({
    ...alpha,
    status: { xid: 1234, running: true, conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'account exists and runs', lastTransitionTime: CONDITION_TIME }] },
  });
  await api.store.create({
    apiVersion: API_VERSION,
    kind: 'Event',
    metadata: { name: 'alpha.created' },
    spec: {
      involvedObject: { kind: 'Sliver', name: 'alpha' },
      type: 'Normal',
      reason: 'AccountCreated',
      message: 'created account alpha',
      count: 2,
      firstTimestamp: CONDITION_TIME,
      lastTimestamp: CONDITION_TIME,
      source: 'account',
    },
  });
  const { code, stdout, stderr } = await run(['describe', 'sl', 'alpha']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Name:\s+alpha$/m);
  assert.match(stdout, /^Labels:\s+team=red$/m);
  assert.match(stdout, /^\s+cpu_share\s+40\s+-$/m);
  assert.match(stdout, /^\s+Xid:\s+1234$/m);
  assert.match(stdout, /^Conditions:\n\s+TYPE\s+STATUS\s+REASON\s+MESSAGE\s+SINCE\n\s+Ready\s+True\s+Running\s+account exists and runs/m);
  assert.match(stdout, /^Events:\n\s+TYPE\s+REASON\s+AGE\s+FROM\s+MESSAGE\n\s+Normal\s+AccountCreated\s+\S+ \(x2\)\s+account\s+created account alpha$/m);
});

test('diff: exit 0 when the same, 1 with the differences, >1 on error', { timeout: 60_000 }, async () => {
  const same = file('same.yaml', sliverYaml('beta', '', '    team: blue\n'));
  const other = file('other.yaml', sliverYaml('beta', '', '    team: green\n'));
  const broken = file('broken.yaml', 'apiVersion: [');
  const [sameRun, otherRun, brokenRun] = await Promise.all([run(['diff', '-f', same]), run(['diff', '-f', other]), run(['diff', '-f', broken])]);
  assert.equal(sameRun.code, 0, sameRun.stderr);
  assert.equal(sameRun.stdout, '');
  assert.equal(otherRun.code, 1, otherRun.stderr);
  assert.match(otherRun.stdout, /^--- live\/sliver\/beta\n\+\+\+ merged\/sliver\/beta\n/);
  assert.match(otherRun.stdout, /^-    team: blue\n\+    team: green$/m);
  assert.ok(brokenRun.code !== null && brokenRun.code > 1, `exit ${brokenRun.code}`);
  assert.equal((await api.store.get('Sliver', 'beta')).metadata.labels?.team, 'blue', 'diff changes nothing');
});

test('wait --for=condition=Ready returns once a controller sets it, and times out otherwise', { timeout: 60_000 }, async () => {
  const waiting = startSlvctl(['wait', 'sl', 'beta', '--for=condition=Ready', '--timeout=30s'], { socket: api.socketPath });
  const timingOut = run(['wait', 'sl', 'alpha', '--for=condition=Ready=False', '--timeout=1s']);
  // The wait has listed and is watching once it is connected; setting Ready before that is fine too.
  const beta = await api.store.get('Sliver', 'beta');
  await api.store.updateStatus({ ...beta, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'ok', lastTransitionTime: CONDITION_TIME }] } });
  const done = await waiting.done;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, 'sliver/beta condition met (condition Ready=True)\n');
  const timedOut = await timingOut;
  assert.equal(timedOut.code, ExitCodes.failure);
  assert.equal(timedOut.stderr, 'error: timed out after 1s waiting for condition Ready=False on sliver/alpha\n');
});

test('get -w prints changes as they happen', { timeout: 60_000 }, async () => {
  const watching = startSlvctl(['get', 'sl', '-w', '-o', 'name', '-l', 'watch=me'], { socket: api.socketPath });
  // Created before or after the watcher's list, it is printed either way (the watch starts at the list's revision).
  const created = await run(['apply', '-f', file('watched.yaml', sliverYaml('watched', '', '    watch: me\n'))]);
  assert.equal(created.code, 0, created.stderr);
  await watching.until(/sliver\/watched\n/);
  await api.store.delete('Sliver', 'watched');
  await watching.until(/sliver\/watched\nsliver\/watched\n/);
  watching.kill();
  await watching.done;
});

/** Resolves with the next store change that `matches`. */
function nextChange(matches: (event: WatchEvent) => boolean): Promise<WatchEvent> {
  return new Promise((resolve) => {
    const watch = api.store.watch(
      {},
      {
        onEvent: (event) => {
          if (!matches(event)) return;
          watch.stop();
          resolve(event);
        },
      },
    );
  });
}

test('delete waits for finalizers, or not with --wait=false', { timeout: 60_000 }, async () => {
  const template = await api.store.get('Sliver', 'alpha');
  const finalizers = ['nm.planet-lab.org/account'];
  await api.store.create({ ...template, metadata: { name: 'held', finalizers } });
  await api.store.create({ ...template, metadata: { name: 'waited', finalizers } });
  const noWait = await run(['delete', 'sl', 'held', '--wait=false']);
  assert.equal(noWait.stdout, 'sliver "held" is being deleted (waiting for finalizers: nm.planet-lab.org/account)\n', noWait.stderr);
  assert.ok((await api.store.get('Sliver', 'held')).metadata.deletionTimestamp);

  const deletionStarted = nextChange((e) => e.object.metadata.name === 'waited' && e.object.metadata.deletionTimestamp !== undefined);
  const waiting = startSlvctl(['delete', 'sl', 'waited'], { socket: api.socketPath });
  const { object } = await deletionStarted;
  // The finalizing controller lets go.
  await api.store.update({ ...object, metadata: { ...object.metadata, finalizers: [] } });
  const done = await waiting.done;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, 'sliver "waited" deleted\n');
  assert.equal(await api.store.tryGet('Sliver', 'waited'), undefined);
  const plain = await run(['delete', 'sliver', 'beta']);
  assert.equal(plain.stdout, 'sliver "beta" deleted\n');
  assert.equal(await api.store.tryGet('Sliver', 'beta'), undefined);
});

test('edit opens $EDITOR and updates what was saved; unchanged is cancelled', { timeout: 60_000 }, async () => {
  const edited = await run(['edit', 'sl', 'alpha'], undefined, { EDITOR: 'sed -i s/cpu_share:\\ 40/cpu_share:\\ 48/' });
  assert.equal(edited.stdout, 'sliver/alpha edited\n', edited.stderr);
  assert.equal((await api.store.get('Sliver', 'alpha')).spec.rspec.cpu_share, 48);
  const untouched = await run(['edit', 'sl', 'alpha'], undefined, { EDITOR: 'true' });
  assert.equal(untouched.stdout, 'Edit cancelled, no changes made.\n');
});

test("loans set --wait=false replaces the sliver's loans (no controllers here to decide them)", { timeout: 60_000 }, async () => {
  await api.store.create({ ...(await api.store.get('Sliver', 'alpha')), metadata: { name: 'gamma' } });
  const set = await run(['loans', 'set', 'alpha', 'gamma:cpu_share:5', 'gamma:net_max:100', '--wait=false']);
  assert.equal(set.stdout, 'sliver "alpha": 2 loan(s) set\n', set.stderr);
  const loans = (await api.store.list('Loan')).items.filter((l) => l.spec.from === 'alpha').map((l) => [l.metadata.name, l.spec.to, l.spec.resource, l.spec.amount, l.spec.order]);
  assert.deepEqual(loans, [
    ['alpha.0', 'gamma', 'cpu_share', 5, 0],
    ['alpha.1', 'gamma', 'net_max', 100, 1],
  ]);
  const fewer = await run(['loans', 'set', 'alpha', 'gamma:cpu_min:1', '--wait=false']);
  assert.equal(fewer.stdout, 'sliver "alpha": 1 loan(s) set, 1 removed\n', fewer.stderr);
  const bad = await run(['loans', 'set', 'alpha', 'gamma:disk_max:1']);
  assert.equal(bad.code, ExitCodes.usage);
  assert.match(bad.stderr, /^error: invalid loan "gamma:disk_max:1": disk_max cannot be lent/);
});

test('bad input: one clear line on stderr and the matching exit code, nothing half-applied', { timeout: 60_000 }, async () => {
  const halfBad = file('half-bad.yaml', `${sliverYaml('fine')}---\n${sliverYaml('broken').replace('rspec: {cpu_share: 32}', 'rspec: {cpu_share: lots}')}`);
  mkdirSync(join(api.dir, 'manifests'));
  file('manifests/a.yaml', sliverYaml('indir'));
  file('manifests/b.json', JSON.stringify({ apiVersion: API_VERSION, kind: 'Gizmo', metadata: { name: 'x' } }));
  const [invalidYaml, unknownKind, schema, dir, noSocket, https, unknownType, conflict, missing, usage] = await Promise.all([
    run(['apply', '-f', file('invalid.yaml', 'kind: Sliver\n  metadata: [\n')]),
    run(['apply', '-f', file('unknown.yaml', `apiVersion: ${API_VERSION}\nkind: Pod\nmetadata: {name: x}\n`)]),
    run(['apply', '-f', halfBad]),
    run(['apply', '-f', join(api.dir, 'manifests')]),
    slvctl(['get', 'sl'], { socket: join(api.dir, 'nothing-here.sock') }),
    slvctl(['get', 'sl'], { socket: 'https://127.0.0.1:6443' }),
    run(['get', 'pods']),
    run(['apply', '-f', file('conflict.yaml', sliverYaml('alpha').replace('cpu_share: 32', 'cpu_share: 99'))], undefined, {}),
    run(['get', 'sl', 'nobody']),
    run(['get']),
  ]);
  const oneLine = (r: { stderr: string }) => assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.equal(invalidYaml.code, ExitCodes.invalid);
  assert.match(invalidYaml.stderr, /^error: invalid YAML in .*invalid\.yaml at line 1, column 7: Nested mappings are not allowed in compact mappings$/m);
  oneLine(invalidYaml);
  assert.equal(unknownKind.code, ExitCodes.invalid);
  assert.match(unknownKind.stderr, /unknown kind "Pod": expected one of Sliver, Delegate, Loan, Event/);
  assert.equal(schema.code, ExitCodes.invalid);
  assert.match(schema.stderr, /^error: sliver\/broken \(.*half-bad\.yaml \(document 2\)\): Sliver "broken" is invalid: spec\.rspec\.cpu_share: must be integer; nothing was applied\n$/);
  oneLine(schema);
  assert.equal(await api.store.tryGet('Sliver', 'fine'), undefined, 'the valid document was not applied either');
  assert.equal(dir.code, ExitCodes.invalid);
  assert.match(dir.stderr, /b\.json: unknown kind "Gizmo"/);
  assert.equal(await api.store.tryGet('Sliver', 'indir'), undefined);
  assert.equal(noSocket.code, ExitCodes.unavailable);
  assert.match(noSocket.stderr, /^error: cannot connect to slvd: the API socket .*nothing-here\.sock does not exist/);
  oneLine(noSocket);
  assert.equal(https.code, ExitCodes.usage);
  assert.match(https.stderr, /^error: --server https:\/\/127\.0\.0\.1:6443: slvctl talks to slvd over its Unix socket or http:\/\/host:port; for an HTTPS listener use kubectl/);
  oneLine(https);
  assert.equal(unknownType.code, ExitCodes.usage);
  assert.match(unknownType.stderr, /unknown resource type "pods"/);
  assert.equal(conflict.code, ExitCodes.conflict, conflict.stderr);
  assert.match(conflict.stderr, /apply failed with 1 conflict: \/spec\/rspec\/cpu_share \(owned by "root"\)/);
  assert.equal(missing.code, ExitCodes.notFound);
  assert.equal(missing.stderr, 'error: sliver "nobody" not found\n');
  assert.equal(usage.code, ExitCodes.usage);
  assert.match(usage.stderr, /missing required argument 'kind'/);
});

test('version, completion and help work; completion is valid bash', { timeout: 60_000 }, async () => {
  const [versionRun, completion, help] = await Promise.all([run(['version']), run(['completion', 'bash']), run(['apply', '--help'])]);
  assert.match(versionRun.stdout, /^Client Version: \d+\.\d+\.\d+\nServer Version: \d+\.\d+\.\d+ \(nm\.planet-lab\.org\/v1\)\n$/);
  assert.match(completion.stdout, /complete -F _slvctl slvctl/);
  execFileSync('bash', ['-n'], { input: completion.stdout });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--dry-run \[mode\]/);
});

test('apply -f a minimal hand-written sliver: only what a user decides; bookkeeping fields default; a negative size is refused with the range', { timeout: 60_000 }, async () => {
  const minimal = (name: string, rspec: string) =>
    `apiVersion: ${API_VERSION}\nkind: Sliver\nmetadata: {name: ${name}}\nspec:\n  type: sliver.LXC\n  instantiation: plc-instantiated\n  keys: ["ssh-ed25519 AAAA ${name}"]\n  rspec: ${rspec}\n`;
  const created = await run(['apply', '-f', file('minimal.yaml', minimal('handmade', '{cpu_share: 8}'))]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, 'sliver/handmade created\n');
  const stored = await api.store.get('Sliver', 'handmade');
  assert.deepEqual(
    { initscript: stored.spec.initscript, delegations: stored.spec.delegations, timestamp: stored.spec.timestamp, attributes: stored.spec.attributes, rspec: stored.spec.rspec },
    { initscript: '', delegations: [], timestamp: 0, attributes: {}, rspec: { cpu_share: 8 } },
  );
  const again = await run(['apply', '-f', file('minimal.yaml', minimal('handmade', '{cpu_share: 8}'))]);
  assert.equal(again.stdout, 'sliver/handmade unchanged\n', again.stderr);
  const delegate = await run(['apply', '-f', file('delegate.yaml', `apiVersion: ${API_VERSION}\nkind: Delegate\nmetadata: {name: handmade_del}\nspec: {keys: []}\n`)]);
  assert.equal(delegate.stdout, 'delegate/handmade_del created\n', delegate.stderr);

  const negative = await run(['apply', '-f', file('negative.yaml', minimal('negative', '{disk_max: -5}'))]);
  assert.equal(negative.code, ExitCodes.invalid);
  assert.match(negative.stderr, /spec\.rspec\.disk_max: -5 is out of range: must be from 1 to 1125899906842624/);
  assert.equal(await api.store.tryGet('Sliver', 'negative'), undefined);
});
