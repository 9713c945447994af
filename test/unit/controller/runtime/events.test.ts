// Events in the store: repeats aggregate into one Event (count, lastTimestamp), each object keeps
// a bounded number, and an object's Events go when the object goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../../controller/runtime/clock.js';
import { StoreEventRecorder, eventName } from '../../../../controller/runtime/events.js';
import { silentLog as silent, tempStore } from '../../../support/runtime-helpers.js';
import { sliver } from '../../../../adapters/store/conformance.js';

test('repeats aggregate, distinct messages are bounded per object, forgetObject removes them', { timeout: 10_000 }, async (t) => {
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

  recorder.forgetObject('Sliver', 'alpha');
  await recorder.flush();
  const left = (await store.list('Event')).items.map((e) => e.spec.involvedObject.name);
  assert.deepEqual(left, ['beta']);
  assert.equal(recorder.pending(), 0);
});
