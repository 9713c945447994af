import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leaseStateAt } from '../../../resources/reservations.js';

const leases = [
  { sliceId: 1, sliver: 'a', from: 600, until: 1200 },
  { sliceId: 2, sliver: 'b', from: 1200, until: 1800 },
  { sliceId: 3, from: 2400, until: 3000 },
];

test('the holder at an instant: from inclusive, until exclusive, with the next boundary', () => {
  assert.deepEqual(leaseStateAt(leases, 0), { nextBoundary: 600 });
  assert.deepEqual(leaseStateAt(leases, 600), { holder: 'a', until: 1200, nextBoundary: 1200 });
  assert.deepEqual(leaseStateAt(leases, 1199), { holder: 'a', until: 1200, nextBoundary: 1200 });
  assert.deepEqual(leaseStateAt(leases, 1200), { holder: 'b', until: 1800, nextBoundary: 1800 });
  assert.deepEqual(leaseStateAt(leases, 1800), { nextBoundary: 2400 });
  assert.deepEqual(leaseStateAt(leases, 2500), { until: 3000, nextBoundary: 3000 }, 'a lease for a slice not on this node: nobody here holds it');
  assert.deepEqual(leaseStateAt(leases, 3000), {});
});

test('bounds are rounded to the granularity; a lease that rounds to nothing is dropped', () => {
  const skewed = [{ sliceId: 1, sliver: 'a', from: 598, until: 1203 }];
  assert.deepEqual(leaseStateAt(skewed, 599), { nextBoundary: 600 }, 'starts at 600, not 598');
  assert.deepEqual(leaseStateAt(skewed, 600), { holder: 'a', until: 1200, nextBoundary: 1200 });
  assert.deepEqual(leaseStateAt([{ sliceId: 1, sliver: 'a', from: 601, until: 610 }], 600), {});
});
