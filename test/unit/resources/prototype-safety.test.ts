// Untrusted member names never touch prototypes: documents with arbitrary keys (the prototype's own
// names among them) thrown at parsing, apply, merge patch, JSON patch, ownership and selectors.
// Each may refuse (BadRequestError), none may change Object.prototype or Array.prototype.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyConfiguration, applyJsonPatch, mergePatch, recordUpdate } from '../../../resources/apply.js';
import { parseJsonDocument, parseYamlDocument } from '../../../resources/documents.js';
import { BadRequestError } from '../../../resources/errors.js';
import { matchesSelector } from '../../../resources/selectors.js';
import { API_VERSION, type Sliver } from '../../../schemas/types.js';

/** Fixed, so a failure reproduces; raise numRuns locally to search harder. */
const RUNS = { seed: 1_201_212, numRuns: 400 };

const PROTOTYPE_NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Function.prototype), 'prototype'])];
const key = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.constantFrom('spec', 'run', 'labels', 'a', 'zzpolluted'), fc.string({ maxLength: 6 }));

/** JSON text whose objects may carry any key, `__proto__` included, as an attacker's body would. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('1', '"yes"', 'null', 'true', '[]'),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

/** What the prototypes look like: every own property, with its value or accessors. */
function snapshot(): Map<string, unknown> {
  const entries = new Map<string, unknown>();
  for (const [name, prototype] of [
    ['Object', Object.prototype],
    ['Array', Array.prototype],
    ['Function', Function.prototype],
  ] as const) {
    for (const property of Reflect.ownKeys(prototype)) {
      const descriptor = Object.getOwnPropertyDescriptor(prototype, property)!;
      entries.set(`${name}.${String(property)}`, descriptor.value ?? [descriptor.get, descriptor.set]);
    }
  }
  return entries;
}
const BEFORE = snapshot();

function assertPrototypesUnchanged(): void {
  const after = snapshot();
  assert.deepEqual([...after.keys()], [...BEFORE.keys()], 'no property was added to or removed from a prototype');
  for (const [name, value] of after)
    assert.ok(Object.is(value, BEFORE.get(name)) || (Array.isArray(value) && (value as unknown[]).every((v, i) => v === (BEFORE.get(name) as unknown[])[i])), `${name} is unchanged`);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

/** Run `step`; a BadRequestError (a refused key) is an answer, anything else a failure. */
function refusedOrDone(step: () => unknown): void {
  try {
    step();
  } catch (error) {
    if (!(error instanceof BadRequestError)) throw error;
  }
}

function stored(spec: unknown): Sliver {
  const sliver = { apiVersion: API_VERSION, kind: 'Sliver', metadata: { name: 'alice', resourceVersion: '3' }, spec } as Sliver;
  return recordUpdate(undefined, sliver, 'plc', '2026-01-01T00:00:00Z');
}

test('the report: an apply of {"spec":{"__proto__":{"zzpolluted":"yes"}}} onto a stored object', { timeout: 5_000 }, () => {
  const configuration = JSON.parse('{"apiVersion":"nm.planet-lab.org/v1","kind":"Sliver","metadata":{"name":"alice"},"spec":{"__proto__":{"zzpolluted":"yes"}}}') as Sliver;
  assert.throws(() => applyConfiguration(stored({ run: {} }), configuration, 'x', { force: true, now: 'now' }), BadRequestError);
  assert.throws(() => parseJsonDocument(JSON.stringify(configuration).replace('"spec":{', '"spec":{"__proto__":{"zzpolluted":"yes"},'), 'body'), /the key "__proto__" at \/spec is not allowed/);
  assert.equal(({} as Record<string, unknown>).zzpolluted, undefined);
  assertPrototypesUnchanged();
});

test('arbitrary keys through parsing, apply, merge patch, JSON patch and selectors leave the prototypes alone', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(
      jsonText,
      jsonText,
      fc.array(fc.tuple(fc.constantFrom('add', 'replace', 'copy', 'move', 'remove'), fc.array(key, { minLength: 1, maxLength: 4 }), jsonText), { maxLength: 3 }),
      (currentText, inputText, operations) => {
        const current = stored(JSON.parse(currentText));
        const input = JSON.parse(inputText) as unknown;
        refusedOrDone(() => parseJsonDocument(inputText, 'body'));
        refusedOrDone(() => parseYamlDocument(inputText, 'body')); // JSON is YAML
        refusedOrDone(() => applyConfiguration(current, { apiVersion: API_VERSION, kind: 'Sliver', metadata: { name: 'alice' }, spec: input } as Sliver, 'user', { force: true, now: 'now' }));
        refusedOrDone(() =>
          applyConfiguration(current, { apiVersion: API_VERSION, kind: 'Sliver', metadata: { name: 'alice', labels: input }, spec: {} } as unknown as Sliver, 'user', { force: true, now: 'now' }),
        );
        refusedOrDone(() => recordUpdate(current, { ...current, spec: input } as Sliver, 'user', 'now'));
        refusedOrDone(() => mergePatch(current, { spec: input }));
        refusedOrDone(() => mergePatch(input, input));
        const patch = operations.map(([op, path, value]) => ({ op, path: `/${path.join('/')}`, from: `/${path.slice(1).join('/')}`, value: JSON.parse(value) as unknown }));
        try {
          applyJsonPatch(current, patch);
        } catch (error) {
          if (!(error instanceof BadRequestError) && !(error as Error).message.startsWith('the JSON patch cannot be applied')) throw error;
        }
        for (const name of PROTOTYPE_NAMES) {
          assert.equal(matchesSelector([{ key: name, op: 'exists' }], {}), false, `label selector ${name} on an object without labels`);
        }
        assertPrototypesUnchanged();
      },
    ),
    RUNS,
  );
});
