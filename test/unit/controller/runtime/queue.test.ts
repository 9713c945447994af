// The work queue on a fake clock: dedup, one worker per key, re-run after a change while running,
// the exponential backoff sequence with its cap, delayed adds, shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/clock.js';
import { Fifo, WorkQueue, backoffDelay } from '../../../../controller/runtime/queue.js';

function queue(clock = new FakeClock()): { q: WorkQueue; clock: FakeClock } {
  return { q: new WorkQueue({ name: 'test', clock, backoff: { baseDelayMs: 100, maxDelayMs: 1000 } }), clock };
}

test('a key waiting in the queue is queued once however often it is added', { timeout: 5000 }, async () => {
  const { q } = queue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.length(), 0);
});

test('a key being processed is not handed out again until done, then runs once more', { timeout: 5000 }, async () => {
  const { q } = queue();
  q.add('a');
  assert.equal(await q.get(), 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.length(), 0, 'the re-added key waits for done()');
  let second: string | undefined;
  void q.get().then((key) => (second = key));
  await Promise.resolve();
  assert.equal(second, undefined, 'no worker gets the key while it is processed');
  q.done('a');
  await Promise.resolve();
  assert.equal(second, 'a');
  q.done('a');
  assert.ok(q.isIdle());
});

test('failures back off exponentially per key up to the cap; forget resets', { timeout: 5000 }, async () => {
  const { q, clock } = queue();
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    q.addRateLimited('k');
    const [due] = clock.pendingDueTimes();
    assert.ok(due !== undefined);
    delays.push(due - clock.now());
    clock.advance(due - clock.now() - 1);
    assert.equal(q.length(), 0, 'not available before its delay');
    clock.advance(1);
    assert.equal(await q.get(), 'k');
    q.done('k');
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  assert.equal(q.failuresOf('k'), 6);
  q.forget('k');
  q.addRateLimited('k');
  assert.equal((clock.pendingDueTimes()[0] ?? 0) - clock.now(), 100);
  assert.equal(backoffDelay(3, { baseDelayMs: 5, maxDelayMs: 1e9 }), 20);
});

test('of several delayed adds of one key the earliest wins', { timeout: 5000 }, async () => {
  const { q, clock } = queue();
  q.addAfter('k', 500);
  q.addAfter('k', 200);
  q.addAfter('k', 900);
  assert.deepEqual(
    clock.pendingDueTimes().map((t) => t - clock.now()),
    [200],
  );
  clock.advance(199);
  assert.equal(q.length(), 0);
  clock.advance(1);
  assert.equal(q.length(), 1);
  assert.equal(await q.get(), 'k');
});

test('shutdown hands out what is queued, drops delays, then ends every get', { timeout: 5000 }, async () => {
  const { q, clock } = queue();
  q.add('a');
  q.addAfter('b', 100);
  void q.close();
  q.add('c');
  assert.equal(clock.pendingTimers(), 0);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), undefined);
});

test('the FIFO hands items out in the order they came, across its compactions, interleaved with pushes', () => {
  const fifo = new Fifo<number>();
  const taken: number[] = [];
  let next = 0;
  // Pushes outrun takes for a while (the taken part compacts several times), then it drains.
  for (let round = 0; round < 5000; round++) {
    fifo.push(next++);
    fifo.push(next++);
    taken.push(fifo.shift()!);
  }
  assert.equal(fifo.length, 5000);
  while (fifo.length) taken.push(fifo.shift()!);
  assert.equal(fifo.shift(), undefined);
  assert.deepEqual(
    taken,
    Array.from({ length: next }, (_, i) => i),
  );
  fifo.push(7);
  assert.equal(fifo.length, 1);
  assert.equal(fifo.shift(), 7);
});
