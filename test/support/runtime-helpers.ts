// Helpers shared by the runtime, PLC and slvd tests: a real SQLite store in a temp dir that is
// removed after the test, a silent logger, and a bounded wait on the event loop.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqliteStore, type SqliteStoreOptions } from '../../adapters/store/sqlite.js';
import type { Store } from '../../adapters/store/contract.js';

export const silentLog = pino({ level: 'silent' });

/** A temp dir removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'slv-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh SQLite store in a temp dir, closed and removed when the test ends. */
export function tempStore(t: TestContext, options?: SqliteStoreOptions): Store {
  const dir = mkdtempSync(join(tmpdir(), 'slv-store-'));
  const store = openSqliteStore(join(dir, 'store.db'), options);
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** Yield to the event loop until `condition` holds; fails after a bounded number of turns. */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    assert.ok(turn < 5000, `gave up waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
