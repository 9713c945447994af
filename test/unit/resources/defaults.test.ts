// Admission defaults: missing or null bookkeeping fields are filled, given ones kept, other kinds
// and malformed specs left for validation to judge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withSpecDefaults } from '../../../resources/defaults.js';
import type { AnyObject } from '../../../schemas/types.js';

const object = (kind: string, spec: unknown) => ({ apiVersion: 'nm.planet-lab.org/v1', kind, metadata: { name: 'x' }, spec }) as unknown as AnyObject;

test("a Sliver's and a Delegate's missing or null bookkeeping fields default; given values stay", () => {
  const sliver = withSpecDefaults('Sliver', object('Sliver', { type: 'sliver.LXC', instantiation: 'plc-instantiated', rspec: { cpu_share: 8 }, attributes: null, timestamp: 7 }));
  assert.deepEqual(sliver.spec, { type: 'sliver.LXC', instantiation: 'plc-instantiated', rspec: { cpu_share: 8 }, attributes: {}, timestamp: 7, keys: [], initscript: '', delegations: [] });
  assert.deepEqual(withSpecDefaults('Delegate', object('Delegate', {})).spec, { keys: [], timestamp: 0 });
});

test('other kinds and a spec that is not an object are left alone', () => {
  const loan = object('Loan', { from: 'a' });
  assert.equal(withSpecDefaults('Loan', loan), loan);
  const broken = object('Sliver', 'nonsense');
  assert.equal(withSpecDefaults('Sliver', broken), broken);
  const two = [withSpecDefaults('Sliver', object('Sliver', {})), withSpecDefaults('Sliver', object('Sliver', {}))];
  assert.notEqual((two[0]!.spec as { keys: unknown }).keys, (two[1]!.spec as { keys: unknown }).keys, 'each gets its own fresh default');
});
