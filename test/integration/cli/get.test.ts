// `slvctl get` and `slvctl events` as real processes against a real API server (SQLite store):
// several kinds and names, sorting, custom and label columns, events by time, and watches that
// stay aligned, skip repeated rows, show event types, and survive (or report) a server restart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { startApiServer } from '../../../adapters/api/rest/server.js';
import { ExitCodes } from '../../../resources/errors.js';
import { API_VERSION, type Delegate, type Loan, type SlvEvent } from '../../../schemas/types.js';
import { sliverManifest, startTestApi, type TestApi } from '../../support/api-harness.js';
import { slvctl, startSlvctl } from '../../support/slvctl-harness.js';

let api: TestApi;
let run: (args: string[]) => ReturnType<typeof slvctl>;

function loan(from: string, to: string, order: number, amount: number): Loan {
  return { apiVersion: API_VERSION, kind: 'Loan', metadata: { name: `${from}.${order}` }, spec: { from, to, resource: 'cpu_share', amount, order } };
}

function event(name: string, object: string, reason: string, lastTimestamp: string): SlvEvent {
  return {
    apiVersion: API_VERSION,
    kind: 'Event',
    metadata: { name },
    spec: { involvedObject: { kind: 'Sliver', name: object }, type: 'Normal', reason, message: `${reason} ${object}`, count: 1, firstTimestamp: lastTimestamp, lastTimestamp, source: 'test' },
  };
}

before(async () => {
  api = await startTestApi();
  run = (args) => slvctl(args, { socket: api.socketPath });
  await api.store.create(sliverManifest('carol', {}, { labels: { team: 'red' } }));
  await api.store.create(sliverManifest('alice', {}, { labels: { team: 'blue', tier: 'gold' } }));
  await api.store.create(sliverManifest('bob'));
  const delegate: Delegate = { apiVersion: API_VERSION, kind: 'Delegate', metadata: { name: 'pl_monitor' }, spec: { keys: [], timestamp: 0 } };
  await api.store.create(delegate);
  await api.store.create(loan('alice', 'bob', 0, 10));
  // Created out of time order: the listing must sort them.
  await api.store.create(event('e3', 'alice', 'Third', '2026-01-01T00:00:03Z'));
  await api.store.create(event('e1', 'alice', 'First', '2026-01-01T00:00:01Z'));
  await api.store.create(event('e2', 'bob', 'Second', '2026-01-01T00:00:02Z'));
});
after(async () => {
  await api.close();
});

const firstColumn = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/\s+/)[0]);

test('several kinds, TYPE/NAME and several names; a missing name is exit 4 after the others print', { timeout: 60_000 }, async () => {
  const [both, all, qualified, names, missing] = await Promise.all([
    run(['get', 'sl,dg']),
    run(['get', 'all', '-o', 'name']),
    run(['get', 'sliver/bob', 'dg/pl_monitor', '-o', 'name']),
    run(['get', 'sl', 'bob', 'alice', '--no-headers']),
    run(['get', 'sl', 'alice', 'nobody']),
  ]);
  assert.equal(both.code, 0, both.stderr);
  const [slivers, delegates] = both.stdout.split('\n\n');
  assert.deepEqual(firstColumn(slivers!), ['NAME', 'sliver/alice', 'sliver/bob', 'sliver/carol']);
  assert.deepEqual(firstColumn(delegates!), ['NAME', 'delegate/pl_monitor']);
  assert.equal(all.stdout, 'sliver/alice\nsliver/bob\nsliver/carol\ndelegate/pl_monitor\nloan/alice.0\n', 'all: every kind but events');
  assert.equal(qualified.stdout, 'sliver/bob\ndelegate/pl_monitor\n');
  assert.deepEqual(firstColumn(names.stdout), ['bob', 'alice'], 'names in the order asked, no header');
  assert.equal(missing.code, ExitCodes.notFound);
  assert.deepEqual(firstColumn(missing.stdout), ['NAME', 'alice']);
  assert.equal(missing.stderr, 'error: sliver "nobody" not found\n');
});

test('--sort-by, -o custom-columns, --show-labels and -L', { timeout: 60_000 }, async () => {
  const [sorted, custom, labels] = await Promise.all([
    run(['get', 'sl', '--sort-by', '{.metadata.labels.team}', '-o', 'name']),
    run(['get', 'sl', '-o', 'custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team', '--sort-by', '.metadata.name']),
    run(['get', 'sl', '--show-labels', '-L', 'team,tier']),
  ]);
  assert.equal(sorted.stdout, 'sliver/bob\nsliver/alice\nsliver/carol\n', 'no label first, then blue, red');
  assert.equal(custom.stdout, 'NAME    TEAM\nalice   blue\nbob     <none>\ncarol   red\n');
  const [header, alice] = labels.stdout.split('\n');
  assert.match(header!, /\sAGE\s+TEAM\s+TIER\s+LABELS$/);
  assert.match(alice!, /\sblue\s+gold\s+team=blue,tier=gold$/);
  const bad = await run(['get', 'sl', '--sort-by', '.items[x]']);
  assert.equal(bad.code, ExitCodes.usage);
  assert.match(bad.stderr, /^error: invalid jsonpath/);
});

test('events: oldest first, --for one object, and get ev the same', { timeout: 60_000 }, async () => {
  const [events, forAlice, getEv, badFor] = await Promise.all([
    run(['events', '-o', 'custom-columns=REASON:.spec.reason']),
    run(['events', '--for', 'sliver/alice', '-o', 'custom-columns=REASON:.spec.reason', '--no-headers']),
    run(['get', 'ev', '-o', 'name']),
    run(['events', '--for', 'alice']),
  ]);
  assert.equal(events.stdout, 'REASON\nFirst\nSecond\nThird\n', events.stderr);
  assert.equal(forAlice.stdout, 'First\nThird\n', forAlice.stderr);
  assert.equal(getEv.stdout, 'event/e1\nevent/e2\nevent/e3\n');
  assert.equal(badFor.code, ExitCodes.usage);
  assert.match(badFor.stderr, /invalid --for "alice": expected TYPE\/NAME/);
});

test('jsonpath filters on booleans select granted loans', { timeout: 60_000 }, async () => {
  const current = await api.store.get('Loan', 'alice.0');
  await api.store.updateStatus({ ...current, status: { granted: true, reason: 'Granted' } });
  const granted = await run(['get', 'ln', '-o', 'jsonpath={.items[?(@.status.granted==true)].metadata.name}']);
  assert.equal(granted.stdout, 'alice.0', granted.stderr);
  const refused = await run(['get', 'ln', '-o', 'jsonpath={.items[?(@.status.granted==false)].metadata.name}']);
  assert.equal(refused.stdout, '');
});

test('watch: rows stay under the header, a change the row does not show prints nothing, --output-watch-events adds EVENT', { timeout: 60_000 }, async () => {
  const plain = startSlvctl(['get', 'sl', '-w', '-l', 'watch=me'], { socket: api.socketPath });
  const withEvents = startSlvctl(['get', 'sl', '-w', '-l', 'watch=me', '--output-watch-events'], { socket: api.socketPath });
  await api.store.create(sliverManifest('w', {}, { labels: { watch: 'me' } }));
  await plain.until(/^w\s/m);
  await withEvents.until(/^ADDED\s+w\s/m);
  // An annotation is not in the row: MODIFIED, but the same row again.
  const current = await api.store.get('Sliver', 'w');
  await api.store.update({ ...current, metadata: { ...current.metadata, annotations: { note: 'x' } } });
  await withEvents.until(/^MODIFIED\s+w\s/m);
  await api.store.delete('Sliver', 'w');
  await withEvents.until(/^DELETED\s+w\s/m);
  await plain.until(/^w\s[^\n]*\n^w\s/m);
  plain.kill();
  withEvents.kill();
  const [plainRun, eventsRun] = [await plain.done, await withEvents.done];
  const plainLines = plainRun.stdout.trimEnd().split('\n');
  assert.equal(plainLines.length, 3, `header, ADDED, DELETED; the annotation's MODIFIED is not repeated:\n${plainRun.stdout}`);
  const xidAt = plainLines[0]!.indexOf('XID');
  assert.ok(
    plainLines.every((line, i) => i === 0 || line.slice(xidAt).startsWith('- ')),
    `rows line up under XID:\n${plainRun.stdout}`,
  );
  const eventLines = eventsRun.stdout.trimEnd().split('\n');
  assert.match(eventLines[0]!, /^EVENT\s+NAME\s+READY\s+STATUS\s+XID/);
  assert.deepEqual(
    eventLines.slice(1).map((l) => l.split(/\s+/)[0]),
    ['ADDED', 'MODIFIED', 'DELETED'],
  );
  const nameAt = eventLines[0]!.indexOf('NAME');
  assert.ok(
    eventLines.every((line, i) => i === 0 || line.slice(nameAt).startsWith('w ')),
    `names line up under NAME:\n${eventsRun.stdout}`,
  );
});

test('watch: reconnects from its last revision when the server restarts, exits 3 when it does not come back', { timeout: 60_000 }, async () => {
  const watching = startSlvctl(['get', 'sl', '-w', '-o', 'name', '-l', 'restart=me', '--reconnect-timeout', '20s'], { socket: api.socketPath });
  const givingUp = startSlvctl(['get', 'dg', '-w', '-o', 'name', '--reconnect-timeout', '1s'], { socket: api.socketPath });
  await api.store.create(sliverManifest('before', {}, { labels: { restart: 'me' } }));
  await watching.until(/sliver\/before\n/);
  await givingUp.until(/delegate\/pl_monitor\n/);
  await api.server.close();
  // While no server answers: a change the watch must not miss.
  await api.store.create(sliverManifest('during', {}, { labels: { restart: 'me' } }));
  const gaveUp = await givingUp.done;
  assert.equal(gaveUp.code, ExitCodes.unavailable, gaveUp.stderr);
  assert.match(gaveUp.stderr, /slvd ended the watch; reconnecting \(for up to 1s\)\nerror: slvd ended the watch and did not come back within 1s\n$/);
  api.server = await startApiServer({ store: api.store, socketPath: api.socketPath, metrics: new Registry(), ready: () => true, node: api.node });
  await watching.until(/sliver\/during\n/);
  await api.store.create(sliverManifest('after', {}, { labels: { restart: 'me' } }));
  await watching.until(/sliver\/after\n/);
  watching.kill();
  const { stdout, stderr } = await watching.done;
  assert.equal(stdout, 'sliver/before\nsliver/during\nsliver/after\n');
  assert.match(stderr, /^slvd ended the watch; reconnecting \(for up to 20s\)\n/);
});
