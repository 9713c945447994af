// Expiry and startup stagger with a FakeClock: deadlines and spacing are checked on the fake time
// line, never with wall-clock assertions.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { condition, createSliver, editSliver, FakeClock, loansOf, removeTempDirs, setLoans, startDaemon, tempDir, TEST_TIMEOUT } from '../../../support/controllers-harness.js';
import type { SimAdapter } from '../../../../adapters/node/sim/index.js';

after(removeTempDirs);

test('expiry: a sliver is deleted in the first millisecond after it expires, equal is kept, loans vanish', TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock(1_700_000_000_000);
  const daemon = await startDaemon({ clock });
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  const deadline = 1_700_000_010; // unix seconds, 10 s from now
  await createSliver(store, 'soon', { expires: deadline });
  await createSliver(store, 'later', { expires: deadline + 5 });
  await createSliver(store, 'never');
  await setLoans(store, 'soon', [['never', 'cpu_share', 8]]);
  await setLoans(store, 'never', [
    ['soon', 'cpu_share', 8],
    ['later', 'cpu_share', 4],
  ]);
  await daemon.settle();
  assert.ok(clock.pendingDueTimes().includes(deadline * 1000 + 1), 'scheduled for the deadline itself, not polled');

  clock.advance(10_000); // now == expires: kept
  await daemon.settle();
  assert.ok(await store.tryGet('Sliver', 'soon'), 'expires == now is kept');
  assert.ok(node.inspect('soon'));

  clock.advance(1);
  await daemon.settle();
  assert.equal(await store.tryGet('Sliver', 'soon'), undefined, 'expires < now is deleted');
  assert.equal(node.inspect('soon'), undefined, 'and its account destroyed');
  assert.deepEqual(await loansOf(store, 'soon'), []);
  assert.deepEqual(
    (await loansOf(store, 'never')).map((l) => l.spec.to),
    ['later'],
  );
  assert.equal((await store.get('Sliver', 'never')).status?.effectiveRSpec?.cpu_share, 32 - 4);
  assert.ok(await store.tryGet('Sliver', 'later'));

  // PLC extends `later` before its deadline: the old deadline passes harmlessly.
  await editSliver(store, 'later', (spec) => ({ ...spec, expires: deadline + 3600 }));
  await daemon.settle();
  clock.advance(60_000);
  await daemon.settle();
  assert.ok(await store.tryGet('Sliver', 'later'), 'the new deadline counts');
  clock.advance(3600_000);
  await daemon.settle();
  assert.equal(await store.tryGet('Sliver', 'later'), undefined);
  assert.ok(await store.tryGet('Sliver', 'never'), 'no expires, never expires');
});

/** The names the sim was asked to start since `mark`, in order. */
function startsSince(node: SimAdapter, mark: number): string[] {
  return node.history.slice(mark).flatMap((call) => (call.method === 'start' && call.name ? [call.name] : []));
}

test('startup stagger: enabled slivers start in name order, s seconds apart, each once', TEST_TIMEOUT, async () => {
  const dir = tempDir();
  const first = await startDaemon({ dir });
  for (const name of ['echo', 'alpha', 'bravo']) await createSliver(first.store, name);
  await createSliver(first.store, 'charlie', { rspec: { enabled: 0 } });
  await createSliver(first.store, 'delta', { run: { state: 'Stopped' } });
  await first.settle();
  for (const name of ['echo', 'alpha', 'bravo']) await first.node.stop(name); // the node rebooted
  await first.stop();

  const clock = new FakeClock(1_700_000_000_000);
  const second = await startDaemon({ dir, clock, startup: true, staggerSeconds: 3 });
  try {
    const { store, node } = second;
    await second.settle();
    assert.deepEqual(startsSince(node, 0), ['alpha'], 'slot 0 at once');
    assert.equal(condition(await store.get('Sliver', 'bravo'), 'Ready')?.reason, 'NotRunning', 'waiting for its slot');

    // A sliver created now is started by its creation, and the stagger will not start it again.
    await createSliver(store, 'bingo');
    await second.settle();
    assert.deepEqual(startsSince(node, 0), ['alpha', 'bingo']);

    clock.advance(2999);
    await second.settle();
    assert.deepEqual(startsSince(node, 0), ['alpha', 'bingo'], 'not before 3 s');
    clock.advance(1);
    await second.settle();
    assert.deepEqual(startsSince(node, 0), ['alpha', 'bingo', 'bravo']);
    clock.advance(3000);
    await second.settle();
    assert.deepEqual(startsSince(node, 0), ['alpha', 'bingo', 'bravo', 'echo']);
    clock.advance(30_000);
    await editSliver(store, 'alpha', (spec) => ({ ...spec, attributes: { poke: '1' } }));
    await second.settle();
    assert.deepEqual(startsSince(node, 0), ['alpha', 'bingo', 'bravo', 'echo'], 'never twice; disabled and Stopped slivers not at all');

    const started = await Promise.all(['alpha', 'bravo', 'echo'].map((name) => store.get('Sliver', name)));
    assert.deepEqual(
      started.map((s) => (Date.parse(s.status?.lastStartTime ?? '') - 1_700_000_000_000) / 1000),
      [0, 3, 6],
    );
    for (const sliver of started) {
      assert.equal(sliver.status?.staggerStarted, true);
      assert.equal(condition(sliver, 'Ready')?.status, 'True');
    }
    assert.equal((await store.get('Sliver', 'bingo')).status?.staggerStarted, undefined);
    assert.equal(node.inspect('charlie')?.running, false);
    assert.equal(node.inspect('delta')?.running, false);
  } finally {
    await second.stop();
  }
});
