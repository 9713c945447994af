// Events in the store: repeats aggregate into one Event (count, lastTimestamp), each object keeps
// a bounded number, and an object's Events outlive it for the retention period.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/clock.js';
import { StoreEventRecorder, eventName } from '../../../../controller/runtime/events.js';
import { silentLog as silent, tempStore } from '../../../support/runtime-helpers.js';
import { sliver } from '../../../../adapters/store/conformance.js';

test('repeats aggregate, distinct messages are bounded per object', { timeout: 10_000 }, async (t) => {
  const store = tempStore(t);
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const recorder = new StoreEventRecorder({ store, clock, log: silent, maxPerObject: 3 });
  const events = recorder.forSource('account');
  const alpha = await store.create(sliver('alpha'));
  const beta = await store.create(sliver('beta'));

  events.normal(alpha, 'Created', 'account created');
  clock.advance(1000);
  events.normal(alpha, 'Created', 'account created');
  clock.advance(1000);
  events.normal(alpha, 'Created', 'account created');
  await recorder.flush();
  const name = eventName('Sliver', 'alpha', 'Normal', 'Created', 'account created', 'account');
  const aggregated = await store.get('Event', name);
  assert.match(name, /^alpha\.[0-9a-f]{16}$/);
  assert.equal(aggregated.spec.count, 3);
  assert.equal(aggregated.spec.firstTimestamp, '2026-01-01T00:00:00.000Z');
  assert.equal(aggregated.spec.lastTimestamp, '2026-01-01T00:00:02.000Z');
  assert.deepEqual(aggregated.spec.involvedObject, { kind: 'Sliver', name: 'alpha', uid: alpha.metadata.uid });

  for (let i = 0; i < 5; i++) {
    clock.advance(1000);
    events.warning(alpha, 'Failed', `attempt ${i}`);
  }
  events.normal(beta, 'Created', 'account created');
  await recorder.flush();
  const ofAlpha = (await store.list('Event')).items.filter((e) => e.spec.involvedObject.name === 'alpha');
  assert.deepEqual(ofAlpha.map((e) => e.spec.message).sort(), ['attempt 2', 'attempt 3', 'attempt 4'], 'the least recently seen go first');

  assert.equal(recorder.pending(), 0);
});

test("a deleted object's Events stay for the retention after its newest one, then go; a live object's and a recreated one's stay", { timeout: 10_000 }, async (t) => {
  const store = tempStore(t);
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const recorder = new StoreEventRecorder({ store, clock, log: silent });
  const events = recorder.forSource('expiry');
  const hour = 60 * 60_000;
  const [gone, live, again] = [await store.create(sliver('gone')), await store.create(sliver('live')), await store.create(sliver('again'))];
  for (const object of [gone, live, again]) events.normal(object, 'Started', 'started');
  clock.advance(2 * hour);
  events.normal(gone, 'Expired', 'expired');
  await store.delete('Sliver', 'gone');
  await store.delete('Sliver', 'again');
  await store.create(sliver('again'));
  await recorder.flush();

  const names = async () => (await store.list('Event')).items.map((e) => `${e.spec.involvedObject.name} ${e.spec.reason}`).sort();
  const all = ['again Started', 'gone Expired', 'gone Started', 'live Started'];
  clock.advance(hour - 1000);
  await recorder.collectGarbage(hour);
  assert.deepEqual(await names(), all, 'within the retention after its last Event, every Event of the deleted object stays');
  clock.advance(2000);
  await recorder.collectGarbage(hour);
  assert.deepEqual(await names(), ['again Started', 'live Started'], "past it, the deleted object's Events go; old ones of existing names stay");
});
