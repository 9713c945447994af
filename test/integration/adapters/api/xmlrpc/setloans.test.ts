// SetLoans is one transaction under a per-lender lock: with a controller writing the Loans' status
// all the while (as the rspec controller does), sequential and concurrent clients get no fault, and
// the stored list is at every revision exactly one of the lists some client asked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { API_VERSION } from '../../../../../schemas/types.js';
import { ALICE_LOAN_LISTS, listsNotRequested, recordLenderLists } from '../../../../support/loan-lists.js';
import { pythonCalls, sliver, startWorld, type Outcome, type ShimWorld } from '../../../../support/xmlrpc-harness.js';

describe('SetLoans under concurrent Loan status writes', { timeout: 120_000 }, () => {
  let world: ShimWorld;
  let writing = true;
  let statusWriter: Promise<void>;

  before(async () => {
    // The python client runs as this process's uid: make that uid the lender's account (root is allowed anyway).
    world = await startWorld({ systemAccounts: { alice: process.getuid?.() ?? 0 } });
    for (const name of ['alice', 'bob', 'carol']) await world.store.create(sliver(name));
    // What the rspec controller does after every Loan change: write each Loan's decision to its status.
    statusWriter = (async () => {
      let flip = false;
      while (writing) {
        flip = !flip;
        for (const loan of (await world.store.list('Loan')).items) {
          await world.store.updateStatus({ ...loan, status: { granted: flip } }).catch(() => undefined);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
  });

  after(async () => {
    writing = false;
    await statusWriter;
    await world?.close();
  });

  async function check(clients: number, callsEach: number): Promise<void> {
    const recorder = recordLenderLists(world.store, 'alice', await world.store.list('Loan'));
    const runs = Array.from({ length: clients }, (_, c) =>
      pythonCalls(
        world,
        world.unixEndpoint,
        Array.from({ length: callsEach }, (_, i) => ({ method: 'SetLoans', params: ['alice', ALICE_LOAN_LISTS[(c + i) % ALICE_LOAN_LISTS.length]!] })),
      ),
    );
    const outcomes: Outcome[] = (await Promise.all(runs)).flat();
    await new Promise((resolve) => setImmediate(resolve));
    const seen = recorder.stop();
    assert.deepEqual(
      outcomes.filter((o) => !('result' in o && o.result === 1)),
      [],
      'every SetLoans succeeded',
    );
    assert.ok(seen.length > 0, 'the lists were recorded');
    assert.deepEqual(listsNotRequested(seen, ALICE_LOAN_LISTS), [], 'every stored list was one of the requested ones');
  }

  test("a Loan squatting the lender's name, stored before names were reserved, is taken back by SetLoans", async () => {
    const db = new Database(join(world.dir, 'store.db'));
    const squat = { apiVersion: API_VERSION, kind: 'Loan', metadata: { name: 'alice.0', resourceVersion: '1' }, spec: { from: 'bob', to: 'bob', resource: 'cpu_share', amount: 1, order: 0 } };
    db.prepare('INSERT INTO objects (kind, name, revision, data) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET data = excluded.data').run('Loan', 'alice.0', 1, JSON.stringify(squat));
    db.close();
    const [outcome] = await pythonCalls(world, world.unixEndpoint, [{ method: 'SetLoans', params: ['alice', ALICE_LOAN_LISTS[2]!] }]);
    assert.deepEqual(outcome, { result: 1 });
    const loans = (await world.store.list('Loan')).items.map((l) => [l.metadata.name, l.spec.from, l.spec.to]);
    assert.deepEqual(loans, [
      ['alice.0', 'alice', 'bob'],
      ['alice.1', 'alice', 'carol'],
    ]);
  });

  test('one sequential client: 400 calls, no fault, no list that nobody asked for', () => check(1, 400));
  test('eight concurrent clients: no fault, no list that nobody asked for', () => check(8, 60));
});
