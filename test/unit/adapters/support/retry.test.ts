// retryOnConflict: a conflict is retried with a fresh attempt until the attempts run out, other
// errors end at once, a custom rule decides what is retryable, and a success returns its value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryOnConflict } from '../../../../adapters/support/retry.js';
import { ConflictError, NotFoundError } from '../../../../resources/errors.js';

const conflict = () => new ConflictError('Sliver', 'a', 'the object has been modified');

test('a conflict is retried until an attempt succeeds; each attempt knows its number', { timeout: 5000 }, async () => {
  const seen: number[] = [];
  const result = await retryOnConflict(
    async (n) => {
      seen.push(n);
      if (n < 3) throw conflict();
      return `done on ${n}`;
    },
    { attempts: 5 },
  );
  assert.equal(result, 'done on 3');
  assert.deepEqual(seen, [1, 2, 3]);
});

test('the last conflict is thrown once the attempts are used up', { timeout: 5000 }, async () => {
  let calls = 0;
  await assert.rejects(
    retryOnConflict(
      async () => {
        calls += 1;
        throw conflict();
      },
      { attempts: 4 },
    ),
    ConflictError,
  );
  assert.equal(calls, 4);
});

test('an error that is not a conflict ends the retries at once', { timeout: 5000 }, async () => {
  let calls = 0;
  await assert.rejects(
    retryOnConflict(
      async () => {
        calls += 1;
        throw new NotFoundError('Sliver', 'a');
      },
      { attempts: 5 },
    ),
    NotFoundError,
  );
  assert.equal(calls, 1);
});

test('a custom rule decides what is retried, and may itself look things up', { timeout: 5000 }, async () => {
  const judged: string[] = [];
  let calls = 0;
  await assert.rejects(
    retryOnConflict(
      async () => {
        calls += 1;
        throw new Error(calls === 1 ? 'raced' : 'settled');
      },
      {
        attempts: 5,
        retryable: async (error) => {
          judged.push((error as Error).message);
          return (error as Error).message === 'raced';
        },
      },
    ),
    /settled/,
  );
  assert.equal(calls, 2);
  assert.deepEqual(judged, ['raced', 'settled']);
});
