// setConditions: the rules every controller's conditions follow (docs/controllers.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setConditions } from '../../../../controller/controllers/status.js';
import type { Condition } from '../../../../schemas/types.js';

const EARLIER = '2026-01-01T00:00:00Z';
const NOW = '2026-02-02T00:00:00Z';

const stored: Condition[] = [
  { type: 'AccountReady', status: 'True', reason: 'AccountExists', message: 'account a has uid 1001', lastTransitionTime: EARLIER, observedGeneration: 1 },
  { type: 'InitScript', status: 'True', reason: 'Exited', message: 'exited 0', lastTransitionTime: EARLIER },
  { type: 'Ready', status: 'False', reason: 'Waiting', message: 'waiting', lastTransitionTime: EARLIER, observedGeneration: 1 },
];

test('lastTransitionTime moves only when a status flips; other types are kept, removed ones dropped; sorted by type', () => {
  const before = JSON.stringify(stored);
  const result = setConditions(
    stored,
    [
      { type: 'Ready', status: 'True', reason: 'Running', message: 'running' },
      { type: 'AccountReady', status: 'True', reason: 'AccountExists', message: 'account a has uid 1001' },
      { type: 'ResourcesApplied', status: 'True', reason: 'Applied', message: 'enforced' },
    ],
    NOW,
    2,
    ['InitScript'],
  );
  // The exact text, key order included: what the store writes and clients print.
  assert.equal(
    JSON.stringify(result),
    JSON.stringify([
      { type: 'AccountReady', status: 'True', reason: 'AccountExists', message: 'account a has uid 1001', lastTransitionTime: EARLIER, observedGeneration: 2 },
      { type: 'Ready', status: 'True', reason: 'Running', message: 'running', lastTransitionTime: NOW, observedGeneration: 2 },
      { type: 'ResourcesApplied', status: 'True', reason: 'Applied', message: 'enforced', lastTransitionTime: NOW, observedGeneration: 2 },
    ]),
  );
  assert.equal(JSON.stringify(stored), before, 'the stored conditions are untouched');
});

test('without a generation the conditions carry none; a type neither set nor removed is kept as it was', () => {
  const result = setConditions(stored, [{ type: 'Ready', status: 'False', reason: 'Waiting', message: 'still waiting' }], NOW, undefined);
  assert.deepEqual(
    result.map((c) => c.type),
    ['AccountReady', 'InitScript', 'Ready'],
  );
  assert.equal(result[0], stored[0], 'kept as the same object');
  assert.deepEqual(result[2], { type: 'Ready', status: 'False', reason: 'Waiting', message: 'still waiting', lastTransitionTime: EARLIER });
  assert.deepEqual(setConditions(undefined, [{ type: 'Ready', status: 'Unknown', reason: 'New', message: 'new' }], NOW, 1), [
    { type: 'Ready', status: 'Unknown', reason: 'New', message: 'new', lastTransitionTime: NOW, observedGeneration: 1 },
  ]);
});
