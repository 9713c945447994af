// The string table that keeps one copy of repeated values among cached objects: it never changes a
// value, looks up only what can repeat, and stays within its limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StringInterner } from '../../../resources/intern.js';

const sliverLike = (name: string, uid: string) => ({
  apiVersion: 'nm.planet-lab.org/v1',
  kind: 'Sliver',
  metadata: { name, uid, resourceVersion: '1234567', creationTimestamp: '2026-11-30T05:18:45Z', finalizers: ['nm.planet-lab.org/account'] },
  spec: { rspec: { cpu_share: 5 }, keys: ['ssh-ed25519 AAAA'.padEnd(300, 'x')] },
  status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'the account exists and runs', lastTransitionTime: '2026-11-30T05:18:55Z' }] },
});

test('internAll leaves every value as it was, in objects and arrays at any depth', () => {
  const strings = new StringInterner();
  const object = sliverLike('s1', '9c1a01cd-523b-4d6a-bb9b-12d91f8eb02b');
  const copy = structuredClone(object);
  strings.internAll(object);
  strings.internAll(copy);
  assert.deepEqual(copy, sliverLike('s1', '9c1a01cd-523b-4d6a-bb9b-12d91f8eb02b'));
  assert.deepEqual(object, copy);
});

test('only values that can repeat enter the table: not names, uids or resourceVersions, nor short or long ones', () => {
  const strings = new StringInterner();
  strings.internAll(sliverLike('sliver-with-a-long-name', '9c1a01cd-523b-4d6a-bb9b-12d91f8eb02b'));
  // apiVersion, creationTimestamp, the finalizer, the message and lastTransitionTime; 'Sliver', 'Ready',
  // 'True' and 'Running' are short (V8 keeps one copy already), the 300-character key is long.
  assert.equal(strings.size, 5);
  strings.internAll(sliverLike('another-long-sliver-name', 'e3b0c442-98fc-1c14-9afb-f4c8996fb924'));
  assert.equal(strings.size, 5, 'a second object with the same values adds nothing');
});

test('equal values built apart take one entry, and come back equal', () => {
  const strings = new StringInterner();
  const first = ['nm.planet-lab.org', 'v1'].join('/');
  const second = ['nm.planet-lab.org/', 'v1'].join('');
  assert.equal(strings.intern(first), 'nm.planet-lab.org/v1');
  assert.equal(strings.intern(second), 'nm.planet-lab.org/v1');
  assert.equal(strings.size, 1);
});

test('past its limit the recent values become the older table and the oldest are dropped: never more than twice the limit', () => {
  const strings = new StringInterner(3);
  for (let i = 0; i < 9; i++) {
    strings.intern(`a value number ${i}`);
    assert.ok(strings.size <= 6, `size ${strings.size} after ${i + 1} values`);
  }
  assert.equal(strings.size, 6, 'values 6 to 8 are recent, 3 to 5 older, 0 to 2 dropped');
  strings.intern('a value number 9');
  assert.equal(strings.size, 4, 'the tenth value started a recent table; 6 to 8 are the older one');
  strings.intern('a value number 7');
  assert.equal(strings.size, 5, 'a value of the older table is added to the recent one');
});
