// `slvctl explain` reads the kinds' JSON Schemas: fields, types, required, allowed values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explain } from '../../../cli/explain.js';
import { UsageError } from '../../../resources/errors.js';

test('explain a kind lists its top-level fields', { timeout: 5_000 }, () => {
  const text = explain('sliver', { recursive: false });
  assert.match(text, /^KIND:     Sliver\nVERSION:  nm\.planet-lab\.org\/v1\n/);
  assert.match(text, /^FIELDS:\n  apiVersion\s+<string>\s+required\s+always nm\.planet-lab\.org\/v1\s+Always nm\.planet-lab\.org\/v1\.$/m);
  assert.match(text, /^  spec\s+<object>\s+required\s+What the sliver should be: /m);
  assert.match(text, /^  status\s+<object>\s+What the controllers observed/m);
  assert.ok(!/^\s+rspec/m.test(text), 'one level only without --recursive');
});

test('explain a field: its type, whether required, its values and its fields', { timeout: 5_000 }, () => {
  const spec = explain('sl.spec', { recursive: false });
  assert.match(spec, /^FIELD:    spec <object>, required$/m);
  assert.match(spec, /^  instantiation\s+<string>\s+required\s+one of plc-instantiated, delegated, nm-controller\s+plc-instantiated: PLC created/m);
  assert.match(spec, /^  keys\s+<\[\]string>\s+required\s+at most 1024 items\s+ssh public keys/m);
  assert.match(spec, /^  attributes\s+<map\[string\]string>\s+required\s+The raw PLC attributes/m);
  const leaf = explain('loan.spec.amount', { recursive: false });
  assert.match(leaf, /^FIELD:    amount <integer>, required\nVALUES:   0\.\.9007199254740991\n\nDESCRIPTION:\n  How much is lent, in the resource's unit\.$/m);
  assert.ok(!leaf.includes('FIELDS:'));
  assert.match(explain('sliver.spec.delegations.account', { recursive: false }), /^FIELD:    account <string>, required\nVALUES:   matches \^\(\?=\.\{1,64\}\$\)/m, 'arrays are descended into');
});

test('explain --recursive indents every level', { timeout: 5_000 }, () => {
  const text = explain('sliver.spec', { recursive: true });
  assert.match(text, /^  run\s+<object>\s+The run state users ask for.*\n    state\s+<string>\s+one of Running, Stopped\s+Running or Stopped\./m);
});

test('explain an unknown field names the ones there are', { timeout: 5_000 }, () => {
  assert.throws(
    () => explain('sliver.spec.rpsec', { recursive: false }),
    (e: Error) => e instanceof UsageError && /field "rpsec" does not exist in sliver\.spec: it has type, instantiation, keys/.test(e.message),
  );
  assert.throws(() => explain('pod', { recursive: false }), /unknown resource type "pod"/);
});
