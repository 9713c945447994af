// The shim reading from an informer over the store, as in slvd: answers are what the store holds
// now, even right after a write the informer may not have seen yet (SetLoans then GetLoans in one
// client's sequence, a spec change then GetRSpec), and the reused encoded answer changes with the sliver.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pythonCalls, sliver, startWorld, type ShimWorld } from '../../../../support/xmlrpc-harness.js';

describe('XML-RPC reads from the informer cache', () => {
  let world: ShimWorld;

  before(async () => {
    // The python client runs as this process's uid: make that uid alice's account (root may call anyway).
    world = await startWorld({ cache: true, systemAccounts: { alice: process.getuid?.() ?? 0 } });
    for (const name of ['alice', 'bob', 'carol']) await world.store.create(sliver(name, { rspec: { cpu_share: 40 } }));
  });

  after(async () => {
    await world?.close();
  });

  test('GetLoans right after SetLoans reads the new loans, each time', async () => {
    const lists = [
      [['bob', 'cpu_share', 5]],
      [
        ['carol', 'cpu_share', 7],
        ['bob', 'cpu_share', 1],
      ],
      [],
    ];
    const calls = lists.flatMap((loans) => [
      { method: 'SetLoans', params: ['alice', loans] },
      { method: 'GetLoans', params: ['alice'] },
      { method: 'GetEffectiveRSpec', params: ['bob'] },
    ]);
    const outcomes = await pythonCalls(world, world.unixEndpoint, calls);
    lists.forEach((loans, i) => {
      assert.deepEqual(outcomes[3 * i], { result: 1 });
      assert.deepEqual(outcomes[3 * i + 1], { result: loans });
      const lentToBob = loans.filter(([to]) => to === 'bob').reduce((sum, [, , amount]) => sum + (amount as number), 0);
      assert.equal((outcomes[3 * i + 2] as { result: Record<string, number> }).result.cpu_share, 40 + lentToBob);
    });
  });

  test('GetRSpec follows a spec change written just before it', async () => {
    for (const cpuShare of [50, 60, 50]) {
      const current = await world.store.get('Sliver', 'alice');
      await world.store.update({ ...current, spec: { ...current.spec, rspec: { cpu_share: cpuShare } } });
      const [outcome] = await pythonCalls(world, world.unixEndpoint, [{ method: 'GetRSpec', params: ['alice'] }]);
      assert.equal((outcome as { result: Record<string, number> }).result.cpu_share, cpuShare);
    }
  });
});
