// The PLC source against a real SQLite store: ingest from a file and from a local XML-RPC server
// standing in for PLC, newer-only updates, purge, user-owned data kept, repeats writing nothing,
// and unreachable or malformed answers changing nothing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import xmlrpc from 'xmlrpc';
import { PlcClient, PlcStateFile, PlcSync, fileSource, structAuthSource, type GetSliversSource } from '../../../../adapters/plc/index.js';
import { applyConfiguration } from '../../../../resources/apply.js';
import type { Store } from '../../../../adapters/store/contract.js';
import { ACCOUNT_FINALIZER, API_VERSION, DELETED_BY_ANNOTATION, MANAGED_BY_LABEL, type AnyObject, type Delegate } from '../../../../schemas/types.js';
import { silentLog, tempDir, tempStore } from '../../../support/runtime-helpers.js';
import { sliver } from '../../../../adapters/store/conformance.js';
import { fileURLToPath } from 'node:url';
import { GETSLIVERS_SAMPLE_URL } from '../../../support/reference-vectors.js';

const SAMPLE = fileURLToPath(GETSLIVERS_SAMPLE_URL);
const sampleNodes = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Array<{ timestamp: number; slivers: Array<Record<string, unknown>> }>;

function answer(timestamp: number, slivers: Array<Record<string, unknown>>): unknown {
  return [{ timestamp, node_id: 1, hostname: 'node.example.org', slivers }];
}

/** A source handing out whatever the test sets (for sequences of answers). */
function memorySource(): GetSliversSource & { next: unknown } {
  return {
    description: 'test answers',
    next: undefined,
    fetch() {
      return Promise.resolve(this.next);
    },
  };
}

function setup(t: TestContext, source: GetSliversSource): { store: Store; sync: PlcSync; state: PlcStateFile } {
  const store = tempStore(t);
  const state = new PlcStateFile(join(tempDir(t), 'plc-state.json'));
  return { store, state, sync: new PlcSync({ store, source, state, log: silentLog, now: () => 1_700_000_000_000 }) };
}

test('the sample file is ingested as PLC-owned objects; the same answer again writes nothing', { timeout: 10_000 }, async (t) => {
  const { store, sync, state } = setup(t, fileSource(SAMPLE));
  const first = await sync.syncOnce();
  assert.deepEqual({ ...first, at: 0 }, { outcome: 'applied', at: 0, reached: true, created: 4, updated: 0, deleted: 0, conflicts: [], skipped: [] });
  const slivers = (await store.list('Sliver')).items.map((s) => s.metadata.name).sort();
  assert.deepEqual(slivers, ['princeton_eisentest', 'princeton_sirius', 'utah_elab_delegated']);
  const snoop = await store.get('Delegate', 'del_snoop');
  assert.equal(snoop.metadata.labels?.[MANAGED_BY_LABEL], 'plc');
  assert.equal(state.read().lastFullUpdate, 1162224000);

  const revision = store.revision();
  const again = await sync.syncOnce();
  assert.equal(again.outcome, 'applied');
  assert.equal(again.created + again.updated + again.deleted, 0);
  assert.equal(store.revision(), revision, 'a repeat writes nothing');
});

test('newer records replace PLC fields but keep user-owned run state, status, finalizers and loans', { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const { store, sync } = setup(t, source);
  source.next = answer(100, [{ name: 'pl_a', attributes: [{ name: 'cpu_share', value: '10' }] }]);
  await sync.syncOnce();
  const created = await store.get('Sliver', 'pl_a');
  const withRun = await store.update({ ...created, metadata: { ...created.metadata, finalizers: ['nm.planet-lab.org/account'] }, spec: { ...created.spec, run: { state: 'Stopped' as const } } });
  await store.updateStatus({ ...withRun, status: { xid: 1234, running: false } });
  await store.create({ apiVersion: 'nm.planet-lab.org/v1', kind: 'Loan', metadata: { name: 'pl_a.0' }, spec: { from: 'pl_a', to: 'pl_b', resource: 'cpu_share', amount: 1, order: 0 } });

  source.next = answer(200, [{ name: 'pl_a', attributes: [{ name: 'cpu_share', value: '64' }] }]);
  const result = await sync.syncOnce();
  assert.equal(result.updated, 1);
  const after = await store.get('Sliver', 'pl_a');
  assert.equal(after.spec.rspec.cpu_share, 64);
  assert.equal(after.spec.timestamp, 200);
  assert.deepEqual(after.spec.run, { state: 'Stopped' });
  assert.deepEqual(after.status, { xid: 1234, running: false });
  assert.deepEqual(after.metadata.finalizers, ['nm.planet-lab.org/account']);
  assert.ok(await store.tryGet('Loan', 'pl_a.0'));

  source.next = answer(200, [{ name: 'pl_a', attributes: [{ name: 'cpu_share', value: '1' }] }]);
  assert.equal((await sync.syncOnce()).updated, 0, 'an equal timestamp is ignored');
  assert.equal((await store.get('Sliver', 'pl_a')).spec.rspec.cpu_share, 64);
});

test('a full update purges PLC-owned objects it no longer lists and never touches user-owned ones', { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const store = tempStore(t);
  const recorded: Array<{ name: string; reason: string }> = [];
  const events = { warning: (o: AnyObject, reason: string) => void recorded.push({ name: o.metadata.name, reason }) };
  const sync = new PlcSync({ store, source, state: new PlcStateFile(join(tempDir(t), 'state.json')), log: silentLog, events });
  await store.create(sliver('user_made'));
  source.next = answer(100, [{ name: 'pl_keep' }, { name: 'pl_drop' }, { name: 'user_made' }]);
  const first = await sync.syncOnce();
  assert.deepEqual(first.conflicts, ['user_made']);
  const [warning] = recorded;
  assert.equal(warning?.reason, 'PlcNameConflict');
  assert.equal(warning?.name, 'user_made');
  source.next = answer(200, [{ name: 'pl_keep' }]);
  const second = await sync.syncOnce();
  assert.deepEqual([second.created, second.updated, second.deleted], [0, 1, 1]);
  // PLC objects are created with the account finalizer: the dropped one waits for the account
  // controller to destroy its account (no controller runs here), the others are untouched.
  const remaining = (await store.list('Sliver')).items;
  assert.deepEqual(
    remaining
      .filter((s) => !s.metadata.deletionTimestamp)
      .map((s) => s.metadata.name)
      .sort(),
    ['pl_keep', 'user_made'],
  );
  assert.deepEqual(
    remaining.filter((s) => s.metadata.deletionTimestamp).map((s) => [s.metadata.name, s.metadata.finalizers]),
    [['pl_drop', [ACCOUNT_FINALIZER]]],
  );
  const dropped = remaining.find((s) => s.metadata.name === 'pl_drop');
  assert.equal(dropped?.metadata.annotations?.[DELETED_BY_ANNOTATION], 'PLC: GetSlivers no longer lists it as a sliver', 'the Deleted Event will say PLC dropped it');
  assert.equal((await store.get('Sliver', 'user_made')).metadata.labels, undefined);
});

test("a PLC record whose name a user's object of the other kind holds is a conflict for that record only, also when the object appears mid-sync", { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const store = tempStore(t);
  const delegate = (name: string): Delegate => ({ apiVersion: API_VERSION, kind: 'Delegate', metadata: { name }, spec: { keys: [], timestamp: 0 } });
  // The user's Delegate appears between the plan and PLC's create of a Sliver of that name.
  const racing = new Proxy(store, {
    get(target, property) {
      if (property === 'create') {
        return async (object: AnyObject) => {
          if (object.metadata.name === 'pl_racer') await target.create(delegate('pl_racer'));
          return target.create(object);
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const recorded: Array<{ kind: string; name: string; reason: string }> = [];
  const events = { warning: (o: AnyObject, reason: string) => void recorded.push({ kind: o.kind, name: o.metadata.name, reason }) };
  const sync = new PlcSync({ store: racing, source, state: new PlcStateFile(join(tempDir(t), 'state.json')), log: silentLog, events });
  await store.create(delegate('pl_monitor'));
  source.next = answer(100, [{ name: 'pl_monitor' }, { name: 'pl_racer' }, { name: 'pl_fine' }]);
  const result = await sync.syncOnce();
  assert.equal(result.outcome, 'applied');
  assert.deepEqual([...result.conflicts].sort(), ['pl_monitor', 'pl_racer']);
  assert.equal(result.created, 1);
  assert.ok(await store.tryGet('Sliver', 'pl_fine'), 'the other records apply');
  assert.equal(await store.tryGet('Sliver', 'pl_monitor'), undefined);
  assert.equal(await store.tryGet('Sliver', 'pl_racer'), undefined);
  assert.deepEqual(recorded.map((r) => `${r.reason} ${r.kind}/${r.name}`).sort(), ['PlcNameConflict Delegate/pl_monitor', 'PlcNameConflict Delegate/pl_racer']);
});

test('a record with a value out of range is skipped and reported; the others apply and its stored sliver is kept', { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const store = tempStore(t);
  const recorded: Array<{ name: string; reason: string; message: string }> = [];
  const events = { warning: (o: AnyObject, reason: string, message: string) => void recorded.push({ name: o.metadata.name, reason, message }) };
  const sync = new PlcSync({ store, source, state: new PlcStateFile(join(tempDir(t), 'state.json')), log: silentLog, events });
  source.next = answer(100, [{ name: 'pl_a' }, { name: 'pl_b' }]);
  await sync.syncOnce();
  source.next = answer(200, [
    { name: 'pl_a', attributes: [{ name: 'cpu_share', value: '-5' }] },
    { name: 'pl_b', attributes: [{ name: 'cpu_share', value: '64' }] },
  ]);
  const result = await sync.syncOnce();
  assert.equal(result.outcome, 'applied');
  assert.deepEqual(result.skipped, [{ path: '[0].slivers[0]', name: 'pl_a', reason: '[0].slivers[0]: cpu_share -5 is out of range: must be from 0 to 8192' }]);
  assert.equal((await store.get('Sliver', 'pl_b')).spec.rspec.cpu_share, 64, 'the good record applies');
  const kept = await store.get('Sliver', 'pl_a');
  assert.equal(kept.metadata.deletionTimestamp, undefined, "the skipped record's sliver is not purged");
  assert.equal(kept.spec.timestamp, 100, 'and keeps its last good spec');
  assert.deepEqual(
    recorded.map((r) => [r.name, r.reason]),
    [['pl_a', 'PlcRecordSkipped']],
  );
  assert.match(recorded[0]!.message, /cpu_share -5 is out of range: must be from 0 to 8192/);
});

test('records older than the last full update are ignored, also after a restart', { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const { store, sync, state } = setup(t, source);
  source.next = answer(300, [{ name: 'pl_now' }]);
  await sync.syncOnce();
  const restarted = new PlcSync({ store, source, state: new PlcStateFile(state.path), log: silentLog });
  source.next = [{ timestamp: 300, slivers: [{ name: 'pl_now' }, { name: 'pl_old', timestamp: 250 }] }];
  const result = await restarted.syncOnce();
  assert.equal(result.created, 0);
  assert.equal(await store.tryGet('Sliver', 'pl_old'), undefined);
});

test('a malformed answer or an unreadable file changes nothing and says why', { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const { store, sync, state } = setup(t, source);
  source.next = answer(100, [{ name: 'pl_a' }]);
  await sync.syncOnce();
  const revision = store.revision();
  source.next = [{ timestamp: 200, node_id: 1, slivers: { pl_b: {} } }];
  const malformed = await sync.syncOnce();
  assert.equal(malformed.outcome, 'malformed');
  assert.match(malformed.error ?? '', /\[0\]\.slivers: must be a list of sliver records/);
  assert.equal(store.revision(), revision);
  assert.equal(state.read().lastFullUpdate, 100);

  const dir = tempDir(t);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '[{"timestamp": 1, "slivers": [');
  const fromBrokenFile = await new PlcSync({ store, source: fileSource(broken), state, log: silentLog }).syncOnce();
  assert.equal(fromBrokenFile.outcome, 'malformed');
  assert.match(fromBrokenFile.error ?? '', /not valid JSON/);
  const missing = await new PlcSync({ store, source: fileSource(join(dir, 'absent.json')), state, log: silentLog }).syncOnce();
  assert.equal(missing.outcome, 'unreachable');
  assert.equal(store.revision(), revision);
});

test('one bad record among 1,000: the 999 others apply, the bad one is reported, and its stored sliver is kept as it was', { timeout: 60_000 }, async (t) => {
  const source = memorySource();
  const store = tempStore(t);
  const warnings: Array<{ kind: string; name: string; reason: string; message: string }> = [];
  const events = { warning: (o: { kind: string; metadata: { name: string } }, reason: string, message: string) => void warnings.push({ kind: o.kind, name: o.metadata.name, reason, message }) };
  const sync = new PlcSync({ store, source, state: new PlcStateFile(join(tempDir(t), 'state.json')), log: silentLog, events });
  const names = Array.from({ length: 1000 }, (_, i) => `site${i % 10}_slice${i}`);
  source.next = answer(
    100,
    names.map((name) => ({ name, attributes: [{ name: 'cpu_share', value: '10' }] })),
  );
  assert.equal((await sync.syncOnce()).created, 1000);

  // The next answer changes every record; one of them has keys PLC cannot have meant.
  const bad = names[500] as string;
  source.next = answer(
    200,
    names.map((name) => (name === bad ? { name, keys: 'not a list' } : { name, attributes: [{ name: 'cpu_share', value: '20' }] })),
  );
  const result = await sync.syncOnce();
  assert.equal(result.outcome, 'applied');
  assert.deepEqual([result.created, result.updated, result.deleted], [0, 999, 0]);
  assert.deepEqual(
    result.skipped.map((entry) => [entry.name, entry.path]),
    [[bad, '[0].slivers[500]']],
  );
  assert.match(result.skipped[0]?.reason ?? '', /slivers\[500\]\.keys: must be a list/);
  const slivers = new Map((await store.list('Sliver')).items.map((s) => [s.metadata.name, s]));
  assert.equal(slivers.size, 1000, 'nothing purged');
  assert.equal(slivers.get(bad)?.spec.rspec.cpu_share, 10, "the skipped record's sliver is kept as it was");
  assert.equal(slivers.get(bad)?.metadata.deletionTimestamp, undefined);
  assert.equal(slivers.get(names[0] as string)?.spec.rspec.cpu_share, 20);
  assert.deepEqual(
    warnings.map((w) => [w.kind, w.name, w.reason]),
    [['Sliver', bad, 'PlcRecordSkipped']],
  );
  assert.match(warnings[0]?.message ?? '', new RegExp(`record "${bad}" was skipped: .*keys: must be a list.*kept as it was`));

  // Still bad an answer later: still kept; fixed: applied like any newer record.
  source.next = answer(
    300,
    names.map((name) => (name === bad ? { name, keys: 'not a list' } : { name, attributes: [{ name: 'cpu_share', value: '20' }] })),
  );
  assert.equal((await sync.syncOnce()).deleted, 0);
  source.next = answer(
    400,
    names.map((name) => ({ name, attributes: [{ name: 'cpu_share', value: '30' }] })),
  );
  const fixed = await sync.syncOnce();
  assert.deepEqual([fixed.updated, fixed.skipped.length], [1000, 0]);
  assert.equal((await store.get('Sliver', bad)).spec.rspec.cpu_share, 30);
});

/** A local XML-RPC server standing in for PLC: answers GetSlivers(auth) with the sample. */
async function fakePlc(t: TestContext, reply: (auth: unknown) => unknown): Promise<{ url: string; calls: unknown[][] }> {
  const calls: unknown[][] = [];
  let server!: ReturnType<typeof xmlrpc.createServer>;
  await new Promise<void>((resolve) => (server = xmlrpc.createServer({ host: '127.0.0.1', port: 0 }, resolve)));
  server.on('GetSlivers', (_error: unknown, params: unknown[], callback: (error: unknown, value?: unknown) => void) => {
    calls.push(params);
    const value = reply(params[0]);
    if (value instanceof Error) callback({ faultCode: 103, faultString: value.message });
    else callback(null, value);
  });
  t.after(() => new Promise<void>((resolve) => server.httpServer.close(() => resolve())));
  const { port } = server.httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/PLCAPI/`, calls };
}

test('GetSlivers over XML-RPC from a local stand-in for PLC, with the auth struct', { timeout: 10_000 }, async (t) => {
  const auth = { AuthMethod: 'anonymous' };
  const plc = await fakePlc(t, (a) => ((a as { AuthMethod?: string }).AuthMethod === 'anonymous' ? sampleNodes : new Error('Failed to authenticate call')));
  const client = new PlcClient({ url: plc.url, allowHttp: true });
  const { store, sync } = setup(t, structAuthSource(client, auth));
  const result = await sync.syncOnce();
  assert.equal(result.outcome, 'applied');
  assert.equal(result.created, 4);
  assert.deepEqual(plc.calls, [[auth]]);
  const sirius = await store.get('Sliver', 'princeton_sirius');
  assert.equal(sirius.spec.rspec.cpu_min, 200);
  assert.equal(sirius.spec.expires, 1893456000);

  const refused = await new PlcSync({ store, source: structAuthSource(client, { AuthMethod: 'password' }), state: new PlcStateFile(join(tempDir(t), 's.json')), log: silentLog }).syncOnce();
  assert.equal(refused.outcome, 'unauthorized');
  assert.equal(refused.reached, true, 'a fault is an answer');
  assert.match(refused.error ?? '', /fault 103: Failed to authenticate call/);
  assert.throws(() => new PlcClient({ url: plc.url }), /plain http; PLC is reached over https \(add --plc-allow-http/);
});

test('an unreachable PLC changes nothing and is reported', { timeout: 10_000 }, async (t) => {
  // A port that was just free: nothing listens there.
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const { store, sync } = setup(t, structAuthSource(new PlcClient({ url: `http://127.0.0.1:${port}/`, allowHttp: true }), {}));
  const result = await sync.syncOnce();
  assert.equal(result.outcome, 'unreachable');
  assert.match(result.error ?? '', /cannot reach PLC at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  assert.equal(result.reached, false);
  assert.equal(sync.lastReached, undefined);
  assert.equal(store.revision(), 0);
});

test('a purged object held by a finalizer is deleted once; later syncs leave it to its controller', { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const { store, sync } = setup(t, source);
  source.next = answer(100, [{ name: 'pl_held' }]);
  await sync.syncOnce();
  const held = await store.get('Sliver', 'pl_held');
  await store.update({ ...held, metadata: { ...held.metadata, finalizers: ['nm.planet-lab.org/account'] } });
  source.next = answer(200, []);
  assert.equal((await sync.syncOnce()).deleted, 1);
  assert.ok((await store.get('Sliver', 'pl_held')).metadata.deletionTimestamp);
  const revision = store.revision();
  source.next = answer(300, [{ name: 'pl_held' }]);
  const later = await sync.syncOnce();
  assert.deepEqual([later.created, later.updated, later.deleted], [0, 0, 0]);
  assert.equal(store.revision(), revision);
});

test('PLC is the recorded field manager of what it writes: an apply by a user that changes it is a conflict', { timeout: 10_000 }, async (t) => {
  const source = memorySource();
  const { store, sync } = setup(t, source);
  source.next = answer(100, [{ name: 'pl_a', attributes: [{ name: 'cpu_share', value: '10' }] }]);
  await sync.syncOnce();
  const created = await store.get('Sliver', 'pl_a');
  const plcEntry = created.metadata.managedFields?.find((entry) => entry.manager === 'plc');
  assert.ok(plcEntry?.fields.includes('/spec/rspec/cpu_share'), 'plc owns the rspec it sent');
  const userConfiguration = { apiVersion: created.apiVersion, kind: created.kind, metadata: { name: 'pl_a' }, spec: { ...created.spec, rspec: { cpu_share: 99 } } };
  assert.throws(() => applyConfiguration(created, userConfiguration, 'alice', { force: false, now: '2026-01-01T00:00:00Z' }), /conflict.*\/spec\/rspec\/cpu_share \(owned by "plc"\)/);
  // User-owned run state is no conflict: PLC never set it.
  const runOnly = { ...userConfiguration, spec: { ...created.spec, run: { state: 'Stopped' as const } } };
  assert.equal(applyConfiguration(created, runOnly, 'alice', { force: false, now: '2026-01-01T00:00:00Z' }).spec.run?.state, 'Stopped');
  // A newer PLC record updates PLC's entry; a repeat writes nothing.
  source.next = answer(200, [{ name: 'pl_a', attributes: [{ name: 'cpu_share', value: '20' }] }]);
  await sync.syncOnce();
  const revision = store.revision();
  await sync.syncOnce();
  assert.equal(store.revision(), revision);
  assert.ok((await store.get('Sliver', 'pl_a')).metadata.managedFields?.some((entry) => entry.manager === 'plc'));
});
