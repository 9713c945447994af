// The store contract (docs/store.md) stated as tests. Any backend runs the same suite:
// `runStoreConformance('name', openFresh)`; nothing here knows which backend it is testing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store, WatchEvent } from './contract.js';
import type { Delegate, Loan, Sliver } from '../../schemas/types.js';

export interface StoreUnderTest {
  store: Store;
  /** Close and open the same data again (durability); absent for backends without persistence. */
  reopen?(): Promise<Store>;
  cleanup(): Promise<void>;
}

export function sliver(name: string, overrides: Partial<Sliver['spec']> = {}): Sliver {
  return {
    apiVersion: 'nm.planet-lab.org/v1',
    kind: 'Sliver',
    metadata: { name },
    spec: { type: 'sliver.VServer', instantiation: 'plc-instantiated', keys: [], initscript: '', rspec: {}, delegations: [], timestamp: 0, attributes: {}, ...overrides },
  };
}

function delegate(name: string): Delegate {
  return { apiVersion: 'nm.planet-lab.org/v1', kind: 'Delegate', metadata: { name }, spec: { keys: [], timestamp: 0, attributes: {} } };
}

function loan(name: string, from: string, to: string, amount: number): Loan {
  return { apiVersion: 'nm.planet-lab.org/v1', kind: 'Loan', metadata: { name }, spec: { from, to, resource: 'cpu_share', amount, order: 0 } };
}

/** Collects watch events until `count` arrived. */
function collect(store: Store, options: Parameters<Store['watch']>[0], count: number): Promise<WatchEvent[]> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const timer = setTimeout(() => reject(new Error(`watch delivered ${events.length} of ${count} events`)), 5000);
    const watch = store.watch(options, {
      onEvent(event) {
        events.push(event);
        if (events.length === count) {
          clearTimeout(timer);
          watch.stop();
          resolve(events);
        }
      },
    });
  });
}

async function rejectsWith(promise: Promise<unknown>, reason: string, code: number): Promise<void> {
  await assert.rejects(promise, (error: { reason?: string; code?: number; message?: string }) => {
    assert.equal(error.reason, reason, `expected ${reason}, got ${error.reason}: ${error.message}`);
    assert.equal(error.code, code);
    return true;
  });
}

export interface BackendTraits {
  /** Keeps data across close and reopen (then `reopen` must be provided). */
  durable: boolean;
  /** A reopened store still replays the changes made before it closed (SQLite keeps them on disk). */
  historyAfterReopen: boolean;
}

export function runStoreConformance(backend: string, open: () => Promise<StoreUnderTest>, traits: BackendTraits): void {
  describe(`store contract: ${backend}`, { timeout: 60_000 }, () => {
    async function withStore(body: (s: StoreUnderTest) => Promise<void>): Promise<void> {
      const s = await open();
      try {
        await body(s);
      } finally {
        await s.cleanup();
      }
    }

    test('create sets server metadata and bumps the global revision', () =>
      withStore(async ({ store }) => {
        const before = store.revision();
        const created = await store.create(sliver('alpha'));
        assert.equal(store.revision(), before + 1);
        assert.equal(created.metadata.resourceVersion, String(before + 1));
        assert.equal(created.metadata.generation, 1);
        assert.match(created.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
        assert.ok(created.metadata.creationTimestamp);
        assert.deepEqual(await store.get('Sliver', 'alpha'), created);
      }));

    test('create of an existing name is 409 AlreadyExists and changes nothing', () =>
      withStore(async ({ store }) => {
        await store.create(sliver('alpha'));
        const revision = store.revision();
        await rejectsWith(store.create(sliver('alpha', { initscript: 'x' })), 'AlreadyExists', 409);
        assert.equal(store.revision(), revision);
        assert.equal((await store.get('Sliver', 'alpha')).spec.initscript, '');
      }));

    test('slivers and delegates share one namespace: creating one with the name of a live other is 409 AlreadyExists naming it', () =>
      withStore(async ({ store }) => {
        await store.create(delegate('pl_monitor'));
        await store.create(sliver('alpha'));
        const revision = store.revision();
        await assert.rejects(store.create(sliver('pl_monitor')), (error: { reason?: string; code?: number; message?: string }) => {
          assert.equal(error.reason, 'AlreadyExists');
          assert.equal(error.code, 409);
          assert.match(error.message ?? '', /sliver "pl_monitor" cannot be created: delegate "pl_monitor" holds the account name/);
          return true;
        });
        await rejectsWith(store.create(delegate('alpha')), 'AlreadyExists', 409);
        await rejectsWith(
          store.transact([
            { type: 'create', object: sliver('beta') },
            { type: 'create', object: delegate('beta') },
          ]),
          'AlreadyExists',
          409,
        );
        assert.equal(store.revision(), revision, 'nothing written');
        assert.equal(await store.tryGet('Sliver', 'pl_monitor'), undefined);
        // One being deleted (held by a finalizer) is giving its account up: the other kind may take the name.
        await store.create({ ...sliver('gamma'), metadata: { name: 'gamma', finalizers: ['hold'] } });
        await store.delete('Sliver', 'gamma');
        assert.ok(await store.create(delegate('gamma')));
      }));

    test('get of a missing object is 404 NotFound; tryGet is undefined', () =>
      withStore(async ({ store }) => {
        await rejectsWith(store.get('Sliver', 'ghost'), 'NotFound', 404);
        assert.equal(await store.tryGet('Sliver', 'ghost'), undefined);
      }));

    test('a stale resourceVersion is 409 Conflict and changes nothing', () =>
      withStore(async ({ store }) => {
        const first = await store.create(sliver('alpha'));
        const second = await store.update({ ...first, spec: { ...first.spec, initscript: 'one' } });
        const revision = store.revision();
        await assert.rejects(store.update({ ...first, spec: { ...first.spec, initscript: 'two' } }), (error: { reason: string; currentResourceVersion?: string }) => {
          assert.equal(error.reason, 'Conflict');
          assert.equal(error.currentResourceVersion, second.metadata.resourceVersion);
          return true;
        });
        await rejectsWith(store.updateStatus({ ...first, status: { running: true } }), 'Conflict', 409);
        await rejectsWith(store.delete('Sliver', 'alpha', { resourceVersion: first.metadata.resourceVersion! }), 'Conflict', 409);
        assert.equal(store.revision(), revision);
        assert.equal((await store.get('Sliver', 'alpha')).spec.initscript, 'one');
      }));

    test('a write that changes nothing bumps nothing and emits no event', () =>
      withStore(async ({ store }) => {
        const created = await store.create(sliver('alpha', { keys: ['k1'] }));
        const events: WatchEvent[] = [];
        const watch = store.watch({}, { onEvent: (e) => events.push(e) });
        const revision = store.revision();
        const same = await store.update(structuredClone(created));
        const sameStatus = await store.updateStatus({ ...created, status: undefined } as Sliver);
        assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
        assert.equal(sameStatus.metadata.resourceVersion, created.metadata.resourceVersion);
        assert.equal(store.revision(), revision);
        await store.create(sliver('marker'));
        await new Promise((resolve) => setImmediate(resolve));
        watch.stop();
        assert.deepEqual(
          events.map((e) => e.object.metadata.name),
          ['marker'],
        );
      }));

    test('generation bumps on spec change only; metadata changes bump resourceVersion', () =>
      withStore(async ({ store }) => {
        const created = await store.create(sliver('alpha'));
        const labelled = await store.update({ ...created, metadata: { ...created.metadata, labels: { team: 'x' } } });
        assert.equal(labelled.metadata.generation, 1);
        assert.notEqual(labelled.metadata.resourceVersion, created.metadata.resourceVersion);
        const respecced = await store.update({ ...labelled, spec: { ...labelled.spec, rspec: { cpu_share: 64 } } });
        assert.equal(respecced.metadata.generation, 2);
        const statused = await store.updateStatus({ ...respecced, status: { running: true } });
        assert.equal(statused.metadata.generation, 2);
      }));

    test('main writes ignore status; status writes never touch spec or metadata', () =>
      withStore(async ({ store }) => {
        const created = await store.create(sliver('alpha'));
        const withStatus = await store.updateStatus({ ...created, status: { running: true, xid: 1001 } });
        const updated = await store.update({ ...withStatus, spec: { ...withStatus.spec, initscript: 'new' }, status: { running: false } });
        assert.deepEqual(updated.status, { running: true, xid: 1001 });
        const statusOnly = await store.updateStatus({
          ...updated,
          spec: { ...updated.spec, initscript: 'ignored' },
          metadata: { ...updated.metadata, labels: { no: 'pe' } },
          status: { running: false },
        });
        assert.equal(statusOnly.spec.initscript, 'new');
        assert.equal(statusOnly.metadata.labels, undefined);
        assert.equal(statusOnly.status?.running, false);
      }));

    test('server-owned metadata cannot be set by clients', () =>
      withStore(async ({ store }) => {
        const created: Sliver = await store.create({ ...sliver('alpha'), metadata: { name: 'alpha', uid: 'forged', generation: 99, deletionTimestamp: '2000-01-01T00:00:00Z' } });
        assert.notEqual(created.metadata.uid, 'forged');
        assert.equal(created.metadata.generation, 1);
        assert.equal(created.metadata.deletionTimestamp, undefined);
        const updated = await store.update({
          ...created,
          metadata: { ...created.metadata, uid: 'forged', creationTimestamp: 'x', deletionTimestamp: 'y' },
          spec: { ...created.spec, initscript: 'z' },
        });
        assert.equal(updated.metadata.uid, created.metadata.uid);
        assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
        assert.equal(updated.metadata.deletionTimestamp, undefined);
      }));

    test('finalizers hold a deleted object with deletionTimestamp until the last one is removed', () =>
      withStore(async ({ store }) => {
        const created = await store.create({ ...sliver('alpha'), metadata: { name: 'alpha', finalizers: ['a', 'b'] } });
        const marked = await store.delete('Sliver', 'alpha');
        assert.ok(marked?.metadata.deletionTimestamp);
        assert.ok(await store.tryGet('Sliver', 'alpha'));
        const again = await store.delete('Sliver', 'alpha');
        assert.equal(again?.metadata.resourceVersion, marked?.metadata.resourceVersion, 'a second delete changes nothing');
        await rejectsWith(store.update({ ...marked!, metadata: { ...marked!.metadata, finalizers: ['a', 'b', 'c'] } }), 'Invalid', 422);
        const events = collect(store, { kind: 'Sliver' }, 2);
        const one = await store.update({ ...marked!, metadata: { ...marked!.metadata, finalizers: ['b'] } });
        assert.ok(one);
        await store.update({ ...one, metadata: { ...one.metadata, finalizers: [] } });
        assert.equal(await store.tryGet('Sliver', 'alpha'), undefined);
        assert.deepEqual(
          (await events).map((e) => e.type),
          ['MODIFIED', 'DELETED'],
        );
        assert.equal(created.metadata.name, 'alpha');
      }));

    test('delete without finalizers removes at once; deleting a missing object is 404', () =>
      withStore(async ({ store }) => {
        await store.create(sliver('alpha'));
        assert.equal(await store.delete('Sliver', 'alpha'), undefined);
        assert.equal(await store.tryGet('Sliver', 'alpha'), undefined);
        await rejectsWith(store.delete('Sliver', 'alpha'), 'NotFound', 404);
      }));

    test('watch from a revision replays history in order, then continues live', () =>
      withStore(async ({ store }) => {
        const start = store.revision();
        const a = await store.create(sliver('alpha'));
        await store.update({ ...a, spec: { ...a.spec, initscript: 'x' } });
        await store.create(loan('alpha.0', 'alpha', 'beta', 1));
        await store.delete('Sliver', 'alpha');
        const all = collect(store, { sinceRevision: start }, 5);
        const slivers = collect(store, { kind: 'Sliver', sinceRevision: start }, 4);
        await store.create(sliver('beta'));
        const events = await all;
        assert.deepEqual(
          events.map((e) => [e.type, e.object.kind, e.object.metadata.name]),
          [
            ['ADDED', 'Sliver', 'alpha'],
            ['MODIFIED', 'Sliver', 'alpha'],
            ['ADDED', 'Loan', 'alpha.0'],
            ['DELETED', 'Sliver', 'alpha'],
            ['ADDED', 'Sliver', 'beta'],
          ],
        );
        const revisions = events.map((e) => e.revision);
        assert.deepEqual(revisions, [start + 1, start + 2, start + 3, start + 4, start + 5]);
        assert.deepEqual(
          events.map((e) => e.object.metadata.resourceVersion),
          revisions.map(String),
        );
        assert.deepEqual(
          (await slivers).map((e) => e.type),
          ['ADDED', 'MODIFIED', 'DELETED', 'ADDED'],
        );
      }));

    test("each watcher's object is its own: the writer changing what it gave or got back changes no event", () =>
      withStore(async ({ store }) => {
        const created = await store.create(sliver('alpha'));
        const first = collect(store, { kind: 'Sliver' }, 2);
        const second = collect(store, { kind: 'Sliver' }, 2);
        const status = { xid: 1001, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Running', message: 'ok', lastTransitionTime: 't' }] };
        const written = await store.updateStatus({ ...created, status });
        // The writer runs before the watchers hear of the write: what it does to either object must not reach them.
        status.conditions[0]!.reason = 'changed-input';
        written.status!.conditions![0]!.message = 'changed-result';
        written.metadata.labels = { changed: 'result' };
        const updated = await store.update({ ...written, metadata: { ...created.metadata, resourceVersion: written.metadata.resourceVersion, labels: { a: 'b' } } });
        updated.metadata.labels!.a = 'changed-result';
        const stored = await store.get('Sliver', 'alpha');
        const [statusEvents, labelEvents] = [await first, await second];
        assert.deepEqual(statusEvents[1]!.object, stored);
        assert.deepEqual(labelEvents[1]!.object, stored);
        assert.deepEqual(statusEvents[0]!.object.status, { xid: 1001, conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'ok', lastTransitionTime: 't' }] });
        assert.notEqual(statusEvents[0]!.object, labelEvents[0]!.object, 'two watchers share no object');
        assert.notEqual(statusEvents[0]!.object.status, labelEvents[0]!.object.status);
      }));

    test('a watch older than the kept history is 410 Gone; the list revision is a valid start', () =>
      withStore(async ({ store }) => {
        for (const name of ['a', 'b', 'c', 'd']) await store.create(sliver(name));
        await store.compact(2);
        assert.equal(store.compactedRevision(), store.revision() - 2);
        assert.throws(
          () => store.watch({ sinceRevision: store.compactedRevision() - 1 }, { onEvent() {} }),
          (e: { reason: string; code: number }) => e.reason === 'Gone' && e.code === 410,
        );
        const listed = await store.list('Sliver');
        assert.deepEqual(
          listed.items.map((s) => s.metadata.name),
          ['a', 'b', 'c', 'd'],
        );
        const events = collect(store, { sinceRevision: listed.revision }, 1);
        await store.create(sliver('e'));
        assert.deepEqual(
          (await events).map((e) => e.object.metadata.name),
          ['e'],
        );
      }));

    test('list carries the revision and filters by label selector', () =>
      withStore(async ({ store }) => {
        await store.create({ ...sliver('a'), metadata: { name: 'a', labels: { owner: 'plc' } } });
        await store.create({ ...sliver('b'), metadata: { name: 'b', labels: { owner: 'user' } } });
        await store.create(sliver('c'));
        const all = await store.list('Sliver');
        assert.equal(all.revision, store.revision());
        assert.deepEqual(
          (await store.list('Sliver', { labelSelector: 'owner=plc' })).items.map((s) => s.metadata.name),
          ['a'],
        );
        assert.deepEqual(
          (await store.list('Sliver', { labelSelector: 'owner!=plc' })).items.map((s) => s.metadata.name),
          ['b', 'c'],
        );
        assert.deepEqual(
          (await store.list('Sliver', { labelSelector: '!owner' })).items.map((s) => s.metadata.name),
          ['c'],
        );
        await rejectsWith(store.list('Sliver', { labelSelector: 'a=b=c' }), 'BadRequest', 400);
      }));

    test('invalid objects are refused with a message naming the field, and nothing is written', () =>
      withStore(async ({ store }) => {
        const revision = store.revision();
        const cases: Array<[unknown, RegExp]> = [
          [{ ...sliver('Bad-Name') }, /metadata\.name: must be an account name .* or a PLC slice name/],
          [{ ...sliver(`waytoolongname_${'x'.repeat(50)}`) }, /metadata\.name/],
          [sliver('alpha', { rspec: { cpu_share: 1.5 } }), /spec\.rspec\.cpu_share: must be integer/],
          [sliver('alpha', { rspec: { bogus: 1 } as never }), /spec\.rspec\.bogus: unknown field/],
          [sliver('alpha', { rspec: { cpu_share: -5 } }), /spec\.rspec\.cpu_share: -5 is out of range: must be from 0 to 8192/],
          [sliver('alpha', { rspec: { enabled: 7 } }), /spec\.rspec\.enabled: 7 is out of range: must be from 0 to 1/],
          [sliver('alpha', { rspec: { cpu_min: 2 ** 53 - 1 } }), /spec\.rspec\.cpu_min: 9007199254740991 is out of range: must be from 0 to 8192000/],
          [sliver('alpha', { rspec: { net_share: 0, disk_max: 0 } }), /spec\.rspec\.net_share: 0 is out of range: must be from 1 to 2836834; spec\.rspec\.disk_max: 0 is out of range/],
          [sliver('alpha', { expires: 2 ** 53 - 1 }), /spec\.expires: 9007199254740991 is out of range: must be from 0 to 253402300799/],
          [{ ...sliver('alpha'), kind: 'Pod' }, /unknown kind "Pod"/],
          [{ ...sliver('alpha'), apiVersion: 'v1' }, /apiVersion must be/],
          [{ ...sliver('alpha'), spec: { type: 'x' } }, /spec\.instantiation: required/],
          [loan('a.0', 'alpha', 'beta', -1), /spec\.amount/],
          [{ ...loan('a.1', 'alpha', 'beta', 1), spec: { from: 'alpha', to: 'beta', resource: 'disk_max', amount: 1, order: 0 } }, /spec\.resource: must be one of/],
        ];
        for (const [object, message] of cases) {
          await assert.rejects(store.create(object as Sliver), (error: Error & { reason?: string }) => {
            assert.equal(error.reason, 'Invalid', error.message);
            assert.match(error.message, message);
            return true;
          });
        }
        assert.equal(store.revision(), revision);
        assert.equal((await store.list('Sliver')).items.length, 0);
        const ok = await store.create(sliver('alpha'));
        await rejectsWith(store.update({ ...ok, spec: { ...ok.spec, keys: 'notalist' as never } }), 'Invalid', 422);
        await rejectsWith(store.updateStatus({ ...ok, status: { bogus: true } as never }), 'Invalid', 422);
        assert.deepEqual(await store.get('Sliver', 'alpha'), ok);
      }));

    test("a Loan must be named in its lender's namespace: <spec.from>.<suffix>", () =>
      withStore(async ({ store }) => {
        const revision = store.revision();
        await assert.rejects(store.create(loan('princeton_codeen.0', 'mit_ron', 'mit_ron', 1)), (error: Error & { reason?: string; causes?: Array<{ field?: string }> }) => {
          assert.equal(error.reason, 'Invalid');
          assert.match(error.message, /metadata\.name: a loan from "mit_ron" must be named "mit_ron\.<suffix>"/);
          assert.deepEqual(
            error.causes?.map((c) => c.field),
            ['metadata.name'],
          );
          return true;
        });
        await rejectsWith(store.create(loan('mit_ron', 'mit_ron', 'mit_ron', 1)), 'Invalid', 422);
        assert.equal(store.revision(), revision);
        const own = await store.create(loan('mit_ron.squat', 'mit_ron', 'mit_ron', 1));
        await rejectsWith(store.update({ ...own, spec: { ...own.spec, from: 'princeton_codeen' } }), 'Invalid', 422);
      }));

    test('dry-run writes validate and answer but store nothing', () =>
      withStore(async ({ store }) => {
        const revision = store.revision();
        const answer = await store.create(sliver('alpha'), { dryRun: true });
        assert.equal(answer.metadata.name, 'alpha');
        assert.equal(store.revision(), revision);
        assert.equal(await store.tryGet('Sliver', 'alpha'), undefined);
        await rejectsWith(store.create(sliver('BAD'), { dryRun: true }), 'Invalid', 422);
      }));

    test('many concurrent writes are all acknowledged with unique, increasing revisions', () =>
      withStore(async ({ store }) => {
        const start = store.revision();
        const created = await Promise.all(Array.from({ length: 200 }, (_, i) => store.create(sliver(`s${i}`))));
        const revisions = created.map((o) => Number(o.metadata.resourceVersion));
        assert.equal(new Set(revisions).size, 200);
        assert.deepEqual(
          revisions,
          [...revisions].sort((a, b) => a - b),
        );
        assert.equal(store.revision(), start + 200);
        // One failing write in a group does not fail the others.
        const results = await Promise.allSettled([store.create(sliver('t1')), store.create(sliver('s0')), store.create(sliver('t2'))]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        assert.equal(store.revision(), start + 202);
      }));

    test('a transaction applies every write under one new revision, one watch event per changed object', () =>
      withStore(async ({ store }) => {
        const alpha = await store.create(sliver('alpha'));
        const beta = await store.create(sliver('beta'));
        await store.create(loan('alpha.9', 'alpha', 'alpha', 1));
        const start = store.revision();
        const events = collect(store, { sinceRevision: start }, 3);
        const results = await store.transact([
          { type: 'update', object: { ...alpha, spec: { ...alpha.spec, initscript: 'x' } } },
          { type: 'create', object: loan('alpha.0', 'alpha', 'beta', 2) },
          { type: 'delete', kind: 'Loan', name: 'alpha.9' },
          { type: 'update', object: structuredClone(beta) },
        ]);
        assert.equal(store.revision(), start + 1, 'one revision for the whole transaction');
        assert.deepEqual(
          results.map((r) => r?.metadata.resourceVersion),
          [String(start + 1), String(start + 1), undefined, beta.metadata.resourceVersion],
          'an unchanged object keeps its version',
        );
        assert.deepEqual(
          (await events).map((e) => [e.type, e.object.metadata.name, e.revision]),
          [
            ['MODIFIED', 'alpha', start + 1],
            ['ADDED', 'alpha.0', start + 1],
            ['DELETED', 'alpha.9', start + 1],
          ],
        );
        assert.deepEqual(
          (await store.list('Loan')).items.map((l) => l.metadata.name),
          ['alpha.0'],
        );
        assert.equal((await store.get('Sliver', 'alpha')).spec.initscript, 'x');
        // History replays the transaction's events too, and a list at its revision holds all of it.
        const replay = await collect(store, { sinceRevision: start }, 3);
        assert.deepEqual(
          replay.map((e) => e.revision),
          [start + 1, start + 1, start + 1],
        );
      }));

    test('a refused operation fails the whole transaction with its typed error and writes nothing', () =>
      withStore(async ({ store }) => {
        const alpha = await store.create(sliver('alpha'));
        const newer = await store.update({ ...alpha, spec: { ...alpha.spec, initscript: 'one' } });
        const revision = store.revision();
        const events: WatchEvent[] = [];
        const watch = store.watch({}, { onEvent: (e) => events.push(e) });
        const fresh = { type: 'create', object: sliver('fresh') } as const;
        await rejectsWith(store.transact([fresh, { type: 'create', object: sliver('alpha') }]), 'AlreadyExists', 409);
        await assert.rejects(
          store.transact([fresh, { type: 'update', object: { ...alpha, spec: { ...alpha.spec, initscript: 'two' } } }]),
          (error: { reason: string; currentResourceVersion?: string }) => {
            assert.equal(error.reason, 'Conflict');
            assert.equal(error.currentResourceVersion, newer.metadata.resourceVersion);
            return true;
          },
        );
        await rejectsWith(store.transact([fresh, { type: 'delete', kind: 'Sliver', name: 'alpha', resourceVersion: alpha.metadata.resourceVersion! }]), 'Conflict', 409);
        await rejectsWith(store.transact([fresh, { type: 'delete', kind: 'Loan', name: 'ghost.0' }]), 'NotFound', 404);
        await rejectsWith(store.transact([fresh, { type: 'create', object: sliver('BAD') }]), 'Invalid', 422);
        await rejectsWith(store.transact([fresh, { type: 'delete', kind: 'Sliver', name: 'fresh' }]), 'BadRequest', 400);
        await store.create(sliver('marker'));
        await new Promise((resolve) => setImmediate(resolve));
        watch.stop();
        assert.deepEqual(
          events.map((e) => e.object.metadata.name),
          ['marker'],
          'no refused transaction emitted an event',
        );
        assert.equal(store.revision(), revision + 1);
        assert.equal(await store.tryGet('Sliver', 'fresh'), undefined);
        assert.equal((await store.get('Sliver', 'alpha')).spec.initscript, 'one');
      }));

    test('a transaction that changes nothing bumps nothing; a dry run writes nothing; an empty one is a no-op', () =>
      withStore(async ({ store }) => {
        const alpha = await store.create(sliver('alpha'));
        const revision = store.revision();
        const [same] = await store.transact([{ type: 'update', object: structuredClone(alpha) }]);
        assert.equal(same?.metadata.resourceVersion, alpha.metadata.resourceVersion);
        assert.deepEqual(await store.transact([]), []);
        const [dry] = await store.transact(
          [
            { type: 'create', object: sliver('beta') },
            { type: 'delete', kind: 'Sliver', name: 'alpha' },
          ],
          { dryRun: true },
        );
        assert.equal(dry?.metadata.name, 'beta');
        assert.equal(store.revision(), revision);
        assert.equal(await store.tryGet('Sliver', 'beta'), undefined);
        assert.ok(await store.tryGet('Sliver', 'alpha'));
      }));

    test('concurrent transactions and writes settle independently, each all or nothing', () =>
      withStore(async ({ store }) => {
        await store.create(sliver('taken'));
        const start = store.revision();
        const outcomes = await Promise.allSettled([
          store.transact([
            { type: 'create', object: sliver('a1') },
            { type: 'create', object: sliver('a2') },
          ]),
          store.transact([
            { type: 'create', object: sliver('b1') },
            { type: 'create', object: sliver('taken') },
          ]),
          store.create(sliver('c1')),
          store.transact([
            { type: 'create', object: sliver('d1') },
            { type: 'create', object: sliver('d2') },
          ]),
        ]);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
        );
        assert.equal(store.revision(), start + 3);
        assert.deepEqual(
          (await store.list('Sliver')).items.map((s) => s.metadata.name),
          ['a1', 'a2', 'c1', 'd1', 'd2', 'taken'],
        );
        const [a1, a2] = await Promise.all([store.get('Sliver', 'a1'), store.get('Sliver', 'a2')]);
        assert.equal(a1.metadata.resourceVersion, a2.metadata.resourceVersion);
      }));

    test('acknowledged writes survive a close and reopen', { skip: traits.durable ? false : `${backend} is not durable` }, async () => {
      const s = await open();
      try {
        assert.ok(s.reopen, 'a durable backend provides reopen');
        await s.store.create(sliver('alpha'));
        const updated = await s.store.updateStatus({ ...(await s.store.get('Sliver', 'alpha')), status: { xid: 7 } });
        const revision = s.store.revision();
        const reopened = await s.reopen();
        assert.equal(reopened.revision(), revision);
        assert.deepEqual(await reopened.get('Sliver', 'alpha'), updated);
        const next = await reopened.create(sliver('beta'));
        assert.equal(next.metadata.resourceVersion, String(revision + 1));
        const [gamma] = await reopened.transact([
          { type: 'create', object: sliver('gamma') },
          { type: 'create', object: sliver('delta') },
        ]);
        const again = await s.reopen();
        assert.equal((await again.get('Sliver', 'delta')).metadata.resourceVersion, gamma?.metadata.resourceVersion);
        if (traits.historyAfterReopen) {
          const replay = await collect(again, { sinceRevision: revision + 1 }, 2);
          assert.deepEqual(
            replay.map((e) => [e.object.metadata.name, e.revision]),
            [
              ['gamma', revision + 2],
              ['delta', revision + 2],
            ],
          );
        } else {
          assert.throws(
            () => again.watch({ sinceRevision: revision + 1 }, { onEvent: () => undefined }),
            (e: { reason: string; code: number }) => e.reason === 'Gone' && e.code === 410,
            'older history is Gone, never silently skipped',
          );
        }
      } finally {
        await s.cleanup();
      }
    });
  });
}
