// The STATUS word of `slvctl get sl` for each cause, from conditions as the controllers write them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sliverStatusWord } from '../../../resources/sliver-status.js';
import type { Condition, ConditionStatus, Sliver } from '../../../schemas/types.js';
import { sliverObject } from '../../support/sliver-objects.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function condition(type: string, status: ConditionStatus, reason: string): Condition {
  return { type, status, reason, message: `${type} ${reason}`, lastTransitionTime: '2026-03-01T00:00:00Z' };
}

function sliver(conditions: Condition[] | undefined, extra: { expires?: number; deleting?: boolean } = {}): Sliver {
  const object = sliverObject('alice', extra.expires === undefined ? {} : { expires: extra.expires }, extra.deleting ? { deletionTimestamp: '2026-03-01T11:59:00Z' } : {});
  return { ...object, ...(conditions ? { status: { conditions } } : {}) };
}

const applied = condition('ResourcesApplied', 'True', 'Applied');
const running = condition('Ready', 'True', 'Running');

test('a Ready sliver is Running; one with limits the node cannot enforce is LimitsNotEnforced', { timeout: 5_000 }, () => {
  assert.equal(sliverStatusWord(sliver([applied, running]), NOW), 'Running');
  assert.equal(sliverStatusWord(sliver([condition('ResourcesApplied', 'False', 'Unsupported'), running]), NOW), 'LimitsNotEnforced');
});

test('a failed init script outranks unenforced limits', { timeout: 5_000 }, () => {
  const unsupported = condition('ResourcesApplied', 'False', 'Unsupported');
  assert.equal(sliverStatusWord(sliver([unsupported, condition('InitScript', 'False', 'Failed'), running]), NOW), 'InitFailed');
  assert.equal(sliverStatusWord(sliver([unsupported, condition('Started', 'False', 'InitFailed'), running]), NOW), 'InitFailed');
  assert.equal(sliverStatusWord(sliver([condition('Ready', 'False', 'InitFailed')]), NOW), 'InitFailed');
});

test("a sliver that is not Ready shows why, in the Ready condition's words", { timeout: 5_000 }, () => {
  for (const reason of ['Stopped', 'Disabled', 'NotRunning', 'NameTaken', 'NotInstantiated', 'NodeError']) {
    assert.equal(sliverStatusWord(sliver([applied, condition('Ready', 'False', reason)]), NOW), reason);
  }
  assert.equal(sliverStatusWord(sliver([condition('ResourcesApplied', 'False', 'Failed'), condition('Ready', 'False', 'ResourcesNotApplied')]), NOW), 'LimitsNotApplied');
  assert.equal(sliverStatusWord(sliver([condition('Ready', 'Unknown', 'WaitingForEffectiveRSpec')]), NOW), 'Pending');
  assert.equal(sliverStatusWord(sliver(undefined), NOW), 'Pending', 'no status yet');
  assert.equal(sliverStatusWord(sliver([applied]), NOW), 'Pending', 'no Ready condition yet');
});

test('deletion and expiry come first', { timeout: 5_000 }, () => {
  assert.equal(sliverStatusWord(sliver([running], { deleting: true }), NOW), 'Terminating');
  const past = NOW / 1000 - 1;
  assert.equal(sliverStatusWord(sliver([running], { expires: past }), NOW), 'Expired');
  assert.equal(sliverStatusWord(sliver([running], { expires: past, deleting: true }), NOW), 'Expired');
  assert.equal(sliverStatusWord(sliver([running], { expires: NOW / 1000 }), NOW), 'Running', 'expires is inclusive: not expired at the second itself');
});
