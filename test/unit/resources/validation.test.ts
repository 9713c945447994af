// A status write checks the status alone: a bad status is refused with exactly the error the whole
// object's check gives, a good one passes, and the rest of the object is not looked at again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidError } from '../../../resources/errors.js';
import { validateObject, validateStatus } from '../../../resources/validation.js';
import type { AnyObject, Sliver } from '../../../schemas/types.js';
import { sliverObject } from '../../support/sliver-objects.js';

function refusal(check: () => void): InvalidError {
  try {
    check();
  } catch (error) {
    assert.ok(error instanceof InvalidError, String(error));
    return error;
  }
  assert.fail('expected the check to refuse the object');
}

const badStatuses: unknown[] = [
  { bogus: true },
  { xid: 'seven' },
  { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'x', message: '', lastTransitionTime: 't' }] },
  { conditions: [{ type: '', status: 'True' }], runState: 'Paused' },
  { dailyBandwidth: { day: 'd', sentBytes: -1, sentExemptBytes: 0, counters: { bytes: 0 }, resetAt: 'r', netMaxCap: 2 } },
  'not an object',
];

test('a bad status is refused with the same message and causes as the whole-object check', () => {
  for (const status of badStatuses) {
    const sliver = { ...sliverObject('alpha'), status } as unknown as Sliver;
    const whole = refusal(() => validateObject('Sliver', sliver));
    const statusOnly = refusal(() => validateStatus(sliver));
    assert.equal(statusOnly.message, whole.message);
    assert.deepEqual(statusOnly.causes, whole.causes);
  }
});

test('a good status (or none) passes the status check, for a Sliver and for a Loan', () => {
  validateStatus({ ...sliverObject('alpha'), status: { xid: 1001, running: true, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: 't' }] } });
  validateStatus(sliverObject('alpha'));
  validateStatus({ apiVersion: 'nm.planet-lab.org/v1', kind: 'Loan', metadata: { name: 'a.1' }, spec: { from: 'a', to: 'b', resource: 'cpu_share', amount: 1, order: 0 } } as AnyObject);
});

test('the status check leaves the other parts to the write that stored them', () => {
  // A spec no create would accept: only validateObject looks at it.
  const stored = { ...sliverObject('alpha'), spec: { ...sliverObject('alpha').spec, keys: 'notalist' }, status: { xid: 1 } } as unknown as Sliver;
  refusal(() => validateObject('Sliver', stored));
  validateStatus(stored);
});
