// The periodic source on a fake clock: a run at start (or first after a period), one period after
// each run ends (or when the run asks), jitter within its bound, triggers coalesced during a run, a period of 0 runs only
// when triggered, a throwing run keeps the period, close waits for a run and ends the timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/clock.js';
import { Periodic, type PeriodicOptions } from '../../../../controller/runtime/periodic.js';
import { IllegalStateError } from '../../../../resources/errors.js';
import { until } from '../../../support/runtime-helpers.js';

function periodic(clock: FakeClock, run: PeriodicOptions['run'], options: Partial<PeriodicOptions> = {}) {
  const errors: unknown[] = [];
  const task = new Periodic({ name: 'test', clock, periodMs: 1000, run, onError: (error) => errors.push(error), ...options });
  return { task, errors };
}

const delays = (clock: FakeClock) => clock.pendingDueTimes().map((due) => due - clock.now());

test('runs at start and then one period after each run; a throwing run keeps the period', { timeout: 5000 }, async () => {
  const clock = new FakeClock();
  let runs = 0;
  const { task, errors } = periodic(clock, () => {
    runs += 1;
    if (runs === 2) throw new Error('second run failed');
  });
  await task.start();
  assert.equal(runs, 1, 'start resolves after the first run');
  assert.deepEqual(delays(clock), [1000]);
  clock.advance(1000);
  await until(() => delays(clock).length === 1, 'the next run is scheduled');
  assert.equal(runs, 2);
  assert.equal((errors[0] as Error).message, 'second run failed');
  assert.deepEqual(delays(clock), [1000], 'the period goes on after a failure');
  task.setPeriod(300);
  assert.deepEqual(delays(clock), [300], 'a new period restarts the pending wait');
  await task.close();
  assert.equal(clock.pendingTimers(), 0);
  assert.equal(task.state, 'closed');
  await assert.rejects(task.start(), IllegalStateError);
});

test('without runAtStart the first run waits a period; jitter lengthens each wait within its bound', { timeout: 5000 }, async () => {
  const clock = new FakeClock();
  let runs = 0;
  const { task } = periodic(clock, () => void (runs += 1), { runAtStart: false, jitter: 0.5, random: () => 0.5 });
  await task.start();
  assert.equal(runs, 0);
  assert.deepEqual(delays(clock), [1250], 'period + jitter·period·random');
  await task.close();
});

test('triggers during a run coalesce into one more run; a period of 0 runs only when triggered', { timeout: 5000 }, async () => {
  const clock = new FakeClock();
  let runs = 0;
  let release: (() => void) | undefined;
  const { task } = periodic(
    clock,
    async () => {
      runs += 1;
      if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
    },
    { periodMs: 0, runAtStart: false },
  );
  task.trigger();
  assert.equal(clock.pendingTimers(), 0, 'a trigger before start is ignored');
  await task.start();
  assert.equal(clock.pendingTimers(), 0, 'period 0: nothing scheduled');
  task.trigger();
  task.trigger();
  assert.deepEqual(delays(clock), [0], 'two triggers, one pending run');
  clock.advance(0);
  await until(() => release !== undefined, 'the first run is in progress');
  task.trigger();
  task.trigger();
  release?.();
  await until(() => clock.pendingTimers() === 1, 'one more run follows');
  clock.advance(0);
  await until(() => runs === 2, 'the follow-up ran');
  assert.equal(clock.pendingTimers(), 0, 'and nothing after it');
  await task.close();
});

test('close waits for a run in progress and schedules nothing after it', { timeout: 5000 }, async () => {
  const clock = new FakeClock();
  let release: (() => void) | undefined;
  let finished = false;
  const { task } = periodic(clock, async () => {
    await new Promise<void>((resolve) => (release = resolve));
    finished = true;
  });
  const started = task.start();
  await until(() => release !== undefined, 'the first run is in progress');
  const closed = task.close();
  release?.();
  await Promise.all([started, closed]);
  assert.equal(finished, true);
  assert.equal(clock.pendingTimers(), 0);
});

test('a run may set the next wait itself; the one after goes back to the period, and setPeriod changes the jitter too', { timeout: 5000 }, async () => {
  const clock = new FakeClock();
  const asked = [250, undefined];
  let runs = 0;
  const { task } = periodic(
    clock,
    () => {
      runs += 1;
      const nextRunInMs = asked.shift();
      return nextRunInMs === undefined ? {} : { nextRunInMs };
    },
    { random: () => 0.5 },
  );
  await task.start();
  assert.deepEqual(delays(clock), [250], 'the run asked for 250 ms');
  clock.advance(250);
  await until(() => runs === 2 && delays(clock).length === 1, 'the second run is scheduled');
  assert.deepEqual(delays(clock), [1000], 'no ask: a period');
  task.setPeriod(2000, 0.5);
  assert.deepEqual(delays(clock), [2500], 'the new period plus half of the 0.5 jitter');
  await task.close();
});
