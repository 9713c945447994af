import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateCores, formatCpuList, parseCpuList } from '../../../resources/cpu-cores.js';
import { InvalidError } from '../../../resources/errors.js';

const cores = (count: number, bestEffort = false) => ({ count, bestEffort });

test('CPU lists read and write as cpuset.cpus does', () => {
  assert.deepEqual(parseCpuList('0-2,5,4\n'), [0, 1, 2, 4, 5]);
  assert.deepEqual(parseCpuList(''), []);
  assert.equal(formatCpuList([5, 0, 1, 2, 7, 8]), '0-2,5,7-8');
  assert.equal(formatCpuList([]), '');
  assert.throws(
    () => parseCpuList('0-x'),
    (e: unknown) => e instanceof InvalidError && /0-x/.test(e.message),
  );
  assert.throws(() => parseCpuList('3-1'), InvalidError);
});

test('reserved cores are exclusive, the rest is shared, one CPU always stays shared', () => {
  const { bySliver, shared, shortOf } = allocateCores(
    [0, 1, 2, 3],
    [
      { name: 'plain', cores: cores(0) },
      { name: 'one', cores: cores(1) },
      { name: 'two', cores: cores(2) },
    ],
  );
  assert.deepEqual(Object.fromEntries(bySliver), { two: [0, 1], one: [2], plain: [3] });
  assert.deepEqual(shared, [3]);
  assert.equal(shortOf.size, 0);
});

test('a request that does not fit gets what is left, down to none (then it shares)', () => {
  const { bySliver, shared, shortOf } = allocateCores(
    [0, 1],
    [
      { name: 'b_big', cores: cores(2) },
      { name: 'a_big', cores: cores(2) },
    ],
  );
  assert.deepEqual(Object.fromEntries(bySliver), { a_big: [0], b_big: [1] }, 'a_big first by name; b_big gets only the shared CPU');
  assert.deepEqual(shared, [1]);
  assert.deepEqual(Object.fromEntries(shortOf), { a_big: 1, b_big: 0 });
});

test('best effort adds the shared CPUs to the reserved ones; a best-effort sliver without cores shares', () => {
  const { bySliver } = allocateCores(
    [0, 1, 2],
    [
      { name: 'eager', cores: cores(1, true) },
      { name: 'strict', cores: cores(1) },
      { name: 'none', cores: cores(0, true) },
    ],
  );
  assert.deepEqual(Object.fromEntries(bySliver), { eager: [0, 2], strict: [1], none: [2] });
});

test('the answer does not depend on the order of the requests', () => {
  const requests = [
    { name: 'x', cores: cores(1) },
    { name: 'y', cores: cores(1) },
    { name: 'z', cores: cores(3) },
  ];
  const forward = allocateCores([0, 1, 2, 3, 4, 5], requests);
  const backward = allocateCores([5, 4, 3, 2, 1, 0], [...requests].reverse());
  assert.deepEqual(forward, backward);
});
