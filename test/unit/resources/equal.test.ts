// Structural equality of JSON values, as the store uses it to tell a write that changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonEqual } from '../../../resources/equal.js';

test('equal values in any key order are equal; keys holding undefined count as absent', () => {
  assert.ok(jsonEqual({ a: 1, b: { c: [1, 'x', null], d: true } }, { b: { d: true, c: [1, 'x', null] }, a: 1 }));
  assert.ok(jsonEqual({ a: 1, gone: undefined }, { a: 1 }));
  assert.ok(jsonEqual({ a: 1 }, { a: 1, gone: undefined }));
  assert.ok(jsonEqual([], []));
  assert.ok(jsonEqual({}, {}));
  assert.ok(jsonEqual('s', 's'));
});

test('a missing, extra or different key, element or type makes values unequal', () => {
  const cases: Array<[unknown, unknown]> = [
    [{ a: 1 }, { a: 1, b: 2 }],
    [{ a: 1, b: 2 }, { a: 1 }],
    [
      { a: 1, b: 2 },
      { a: 1, c: 2 },
    ],
    [{ a: undefined, b: 2 }, { a: 2 }],
    [{ a: { b: [1, 2] } }, { a: { b: [1, 3] } }],
    [
      [1, 2],
      [1, 2, 3],
    ],
    [
      [1, 2, 3],
      [1, 2],
    ],
    [[], {}],
    [{}, []],
    [{ 0: 'x', length: 1 }, ['x']],
    [null, {}],
    [{}, null],
    [1, '1'],
    [{ a: 1 }, { a: '1' }],
  ];
  for (const [a, b] of cases) assert.equal(jsonEqual(a, b), false, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});

test('inherited enumerable keys are not the value', () => {
  const inherited = Object.create({ extra: 1 }) as Record<string, unknown>;
  inherited.a = 1;
  assert.ok(jsonEqual(inherited, { a: 1 }));
  assert.ok(jsonEqual({ a: 1 }, inherited));
});
