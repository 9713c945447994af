// Reading the HTTPS listener's token file: it holds secrets, so one others may read is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTokenFile } from '../../../../../adapters/api/identity/bearer.js';
import { UsageError } from '../../../../../resources/errors.js';
import { tempDir } from '../../../../support/runtime-helpers.js';

const TOKEN = 'f'.repeat(64);

test('a token file readable by its owner only is read; group or other bits refuse it; a missing one is named', (t) => {
  const dir = tempDir(t, 'slv-tokens-');
  const file = join(dir, 'tokens.csv');
  writeFileSync(file, `${TOKEN},root,0\n`, { mode: 0o600 });
  assert.deepEqual(readTokenFile(file), [{ token: TOKEN, user: 'root', uid: 0 }]);
  for (const mode of [0o640, 0o604, 0o620]) {
    chmodSync(file, mode);
    assert.throws(
      () => readTokenFile(file),
      (error: unknown) => error instanceof UsageError && error.message === `token file ${file} is open to other users (mode ${mode.toString(8)}): chmod 600 it`,
    );
  }
  assert.throws(
    () => readTokenFile(join(dir, 'absent.csv')),
    (error: unknown) => error instanceof UsageError && /cannot read token file .*absent\.csv: ENOENT/.test(error.message),
  );
});
