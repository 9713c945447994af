import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leaseStateAt, withLeaseGuarantee } from '../../../resources/reservations.js';

const leases = [
  { sliceId: 1, sliver: 'a', from: 600, until: 1200 },
  { sliceId: 2, sliver: 'b', from: 1200, until: 1800 },
  { sliceId: 3, from: 2400, until: 3000 },
];

test('the holder at an instant: from inclusive, until exclusive, with the next boundary', () => {
  assert.deepEqual(leaseStateAt(leases, 0, 60), { nextBoundary: 600 });
  assert.deepEqual(leaseStateAt(leases, 600, 60), { holder: 'a', until: 1200, nextBoundary: 1200 });
  assert.deepEqual(leaseStateAt(leases, 1199, 60), { holder: 'a', until: 1200, nextBoundary: 1200 });
  assert.deepEqual(leaseStateAt(leases, 1200, 60), { holder: 'b', until: 1800, nextBoundary: 1800 });
  assert.deepEqual(leaseStateAt(leases, 1800, 60), { nextBoundary: 2400 });
  assert.deepEqual(leaseStateAt(leases, 2500, 60), { until: 3000, nextBoundary: 3000 }, 'a lease for a slice not on this node: nobody here holds it');
  assert.deepEqual(leaseStateAt(leases, 3000, 60), {});
});

test('bounds are rounded to the granularity; a lease that rounds to nothing is dropped', () => {
  const skewed = [{ sliceId: 1, sliver: 'a', from: 598, until: 1203 }];
  assert.deepEqual(leaseStateAt(skewed, 599, 60), { nextBoundary: 600 }, 'starts at 600, not 598');
  assert.deepEqual(leaseStateAt(skewed, 600, 60), { holder: 'a', until: 1200, nextBoundary: 1200 });
  assert.deepEqual(leaseStateAt([{ sliceId: 1, sliver: 'a', from: 601, until: 610 }], 600, 60), {});
});

test("PLC's granularity rounds the bounds: an hour's granularity moves a lease to the nearest hour, halves up", () => {
  const lease = [{ sliceId: 1, sliver: 'a', from: 3600 + 1799, until: 3 * 3600 + 1800 }];
  assert.deepEqual(leaseStateAt(lease, 3600, 3600), { holder: 'a', until: 4 * 3600, nextBoundary: 4 * 3600 }, 'from rounds down to 1 h, until up to 4 h');
  assert.deepEqual(leaseStateAt(lease, 3599, 3600), { nextBoundary: 3600 });
  assert.deepEqual(leaseStateAt(lease, 3600, 60), { nextBoundary: 3600 + 1800 }, 'the same lease at minute granularity starts at 1:30');
});

test('the lease CPU guarantee raises cpu_min, never lowers it', () => {
  const rspec = { enabled: 1, cpu_min: 0, cpu_share: 32, net_min: 8, net_max: 8, net2_min: 8, net2_max: 8, net_share: 1, disk_max: 1 };
  assert.equal(withLeaseGuarantee(rspec, undefined), rspec);
  assert.deepEqual(withLeaseGuarantee(rspec, 1000), { ...rspec, cpu_min: 1000 });
  assert.equal(withLeaseGuarantee({ ...rspec, cpu_min: 2000 }, 1000).cpu_min, 2000);
});
