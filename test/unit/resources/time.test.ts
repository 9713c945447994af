// Kubernetes timestamps: UTC, whole seconds, the second an instant falls in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubernetesTimestamp } from '../../../resources/time.js';

test('a timestamp is RFC 3339 in UTC, truncated to the second', () => {
  assert.equal(kubernetesTimestamp(Date.UTC(2024, 4, 1, 12, 0, 0)), '2024-05-01T12:00:00Z');
  assert.equal(kubernetesTimestamp(Date.UTC(2024, 4, 1, 12, 0, 0, 999)), '2024-05-01T12:00:00Z', 'the milliseconds are dropped, never rounded up');
  assert.equal(kubernetesTimestamp(Date.UTC(2024, 11, 31, 23, 59, 59, 500)), '2024-12-31T23:59:59Z');
  assert.equal(kubernetesTimestamp(0), '1970-01-01T00:00:00Z');
});
