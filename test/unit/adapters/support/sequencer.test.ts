// The sequencers: tasks of one line run one at a time in call order, a failure fails only its own
// caller, different keys run concurrently, busy keys are forgotten once done, idle is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSequencer, Sequencer } from '../../../../adapters/support/sequencer.js';

/** A task that records its start and end and finishes only when released. */
function gated(log: string[], name: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    release: () => release(),
    task: async () => {
      log.push(`start ${name}`);
      await gate;
      log.push(`end ${name}`);
      return name;
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('a Sequencer runs tasks one at a time in call order; a failed task fails only its caller', { timeout: 5000 }, async () => {
  const sequencer = new Sequencer();
  const log: string[] = [];
  const a = gated(log, 'a');
  const b = gated(log, 'b');
  const first = sequencer.run(a.task);
  const failing = sequencer.run(async () => {
    log.push('fail');
    throw new Error('boom');
  });
  const second = sequencer.run(b.task);
  await turn();
  assert.deepEqual(log, ['start a'], 'nothing else starts while the first runs');
  assert.equal(sequencer.pending(), 3);
  b.release(); // released early: it still waits for its turn
  a.release();
  assert.equal(await first, 'a');
  await assert.rejects(failing, /boom/);
  assert.equal(await second, 'b');
  assert.deepEqual(log, ['start a', 'end a', 'fail', 'start b', 'end b']);
  assert.equal(sequencer.pending(), 0);
});

test('a Sequencer tells when it drains, and settled() waits for what was queued', { timeout: 5000 }, async () => {
  const sequencer = new Sequencer();
  let idle = 0;
  sequencer.onIdle(() => (idle += 1));
  const log: string[] = [];
  const a = gated(log, 'a');
  void sequencer.run(a.task);
  void sequencer.run(async () => void log.push('b')).catch(() => undefined);
  const settled = sequencer.settled().then(() => log.push('settled'));
  a.release();
  await settled;
  assert.deepEqual(log, ['start a', 'end a', 'b', 'settled']);
  assert.equal(idle, 1, 'one drain, not one per task');
  await sequencer.run(async () => undefined);
  assert.equal(idle, 2);
});

test('a KeyedSequencer orders tasks per key, runs keys concurrently and forgets idle keys', { timeout: 5000 }, async () => {
  const sequencer = new KeyedSequencer();
  const log: string[] = [];
  const x1 = gated(log, 'x1');
  const x2 = gated(log, 'x2');
  const y1 = gated(log, 'y1');
  const runs = [sequencer.run('x', x1.task), sequencer.run('x', x2.task), sequencer.run('y', y1.task)];
  await turn();
  assert.deepEqual(log, ['start x1', 'start y1'], 'y does not wait for x');
  assert.equal(sequencer.busyKeys(), 2);
  y1.release();
  x2.release();
  await runs[2];
  assert.deepEqual(log, ['start x1', 'start y1', 'end y1']);
  x1.release();
  assert.deepEqual(await Promise.all(runs), ['x1', 'x2', 'y1']);
  assert.deepEqual(log, ['start x1', 'start y1', 'end y1', 'end x1', 'start x2', 'end x2']);
  await turn();
  assert.equal(sequencer.busyKeys(), 0);

  await assert.rejects(
    sequencer.run('x', async () => Promise.reject(new Error('x failed'))),
    /x failed/,
  );
  assert.equal(await sequencer.run('x', async () => 'after'), 'after', 'a failure does not block the key');
});
