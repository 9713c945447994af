// The SQLite backend: the shared contract suite, plus what only a file-backed store has to get
// right: refusing corrupt or foreign files and unwritable data dirs, and surviving SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, SqliteStore } from '../../../../adapters/store/sqlite.js';
import { runStoreConformance, sliver } from '../../../../adapters/store/conformance.js';
import type { Store } from '../../../../adapters/store/contract.js';
import { stageProgram } from '../../../support/staging.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'slv-store-'));
}

runStoreConformance(
  'sqlite',
  async () => {
    const dir = tempDir();
    const file = join(dir, 'store.db');
    let store: Store = openSqliteStore(file);
    return {
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = openSqliteStore(file);
        return store;
      },
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { durable: true, historyAfterReopen: true },
);

test('a corrupt store file is refused with a clear error and left untouched', () => {
  const dir = tempDir();
  const file = join(dir, 'store.db');
  writeFileSync(file, 'this is not a database, it is a shopping list\n'.repeat(200));
  const before = readFileSync(file);
  assert.throws(() => openSqliteStore(file), /not a usable slv database \(corrupt or not SQLite\)/);
  assert.deepEqual(readFileSync(file), before);
  rmSync(dir, { recursive: true, force: true });
});

test("another application's SQLite database is refused and left untouched", () => {
  const dir = tempDir();
  const file = join(dir, 'store.db');
  const foreign = new Database(file);
  foreign.exec("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('la')");
  foreign.close();
  const before = readFileSync(file);
  assert.throws(() => openSqliteStore(file), /SQLite database of another application/);
  assert.deepEqual(readFileSync(file), before);
  rmSync(dir, { recursive: true, force: true });
});

test('a missing data dir is named in the error', () => {
  assert.throws(() => openSqliteStore('/nonexistent/slv/store.db'), /data dir \/nonexistent\/slv does not exist/);
});

test('a data dir without write permission is refused, naming the dir', { skip: process.getuid?.() === 0 ? false : 'checked as root by running the opener as nobody' }, () => {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const source = `import { openSqliteStore } from './adapters/store/sqlite.ts';\ntry { openSqliteStore(${JSON.stringify(join(dir, 'store.db'))}); console.log('OPENED'); } catch (e) { console.log(e.message); }\n`;
  const script = stageProgram(source, dir, 'open.mjs');
  const result = spawnSync('/usr/bin/node', [script], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8', timeout: 30_000 });
  assert.match(result.stdout, new RegExp(`permission denied: this user \\(uid 65534\\) cannot write ${dir}`), result.stderr);
  assert.throws(() => statSync(join(dir, 'store.db')));
  rmSync(dir, { recursive: true, force: true });
});

test('a store killed with SIGKILL mid-write loses no acknowledged write and reopens cleanly', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const file = join(dir, 'store.db');
  const acknowledged = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../support/store-crash-writer.ts'), file, `r${round}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    let acks = 0;
    const killAfter = 50 + Math.floor(Math.random() * 400);
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          acknowledged.add(line);
          if (++acks === killAfter) child.kill('SIGKILL');
        }
      });
      child.on('exit', () => resolve());
    });
    assert.ok(acks >= killAfter, `round ${round}: the writer acknowledged ${acks} writes before dying`);
    const store = openSqliteStore(file);
    try {
      const names = new Set((await store.list('Sliver')).items.map((s) => s.metadata.name));
      for (const name of acknowledged) assert.ok(names.has(name), `acknowledged write ${name} is missing after SIGKILL`);
      const history: number[] = [];
      await new Promise<void>((resolve) => {
        const watch = store.watch(
          { sinceRevision: store.compactedRevision() },
          {
            onEvent(event) {
              history.push(event.revision);
              if (event.revision === store.revision()) {
                watch.stop();
                resolve();
              }
            },
          },
        );
      });
      for (let i = 1; i < history.length; i++) assert.ok(history[i]! > history[i - 1]!, 'revisions strictly increase');
      assert.equal(history.at(-1), store.revision());
      const next = await store.create(sliver(`after${round}`));
      assert.equal(Number(next.metadata.resourceVersion), history.at(-1)! + 1);
    } finally {
      await store.close();
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test('SqliteStore is the Store the daemon opens', () => {
  const dir = tempDir();
  const store = openSqliteStore(join(dir, 'store.db'));
  assert.ok(store instanceof SqliteStore);
  return store.close().then(() => rmSync(dir, { recursive: true, force: true }));
});

test('a schema 1 store (one history row per revision) is migrated in place, keeping objects and history', async () => {
  const dir = tempDir();
  const file = join(dir, 'store.db');
  const v1 = new Database(file);
  v1.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE objects (kind TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name));
    CREATE TABLE history (revision INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL);
  `);
  const stored = (name: string, revision: number) => JSON.stringify({ ...sliver(name), metadata: { name, resourceVersion: String(revision), generation: 1 } });
  v1.prepare('INSERT INTO objects VALUES (?, ?, ?, ?)').run('Sliver', 'old', 2, stored('old', 2));
  v1.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?)').run(1, 'Sliver', 'gone', 'ADDED', stored('gone', 1));
  v1.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?)').run(2, 'Sliver', 'old', 'ADDED', stored('old', 2));
  v1.prepare("INSERT INTO meta VALUES ('revision', '2')").run();
  v1.pragma('application_id = 1397511729');
  v1.pragma('user_version = 1');
  v1.close();
  const store = openSqliteStore(file);
  try {
    assert.deepEqual(
      (await store.list('Sliver')).items.map((s) => s.metadata.name),
      ['old'],
    );
    const replayed: Array<[string, number]> = [];
    await new Promise<void>((resolve) => {
      const watch = store.watch(
        { sinceRevision: 0 },
        {
          onEvent(event) {
            replayed.push([event.object.metadata.name, event.revision]);
            if (replayed.length === 2) {
              watch.stop();
              resolve();
            }
          },
        },
      );
    });
    assert.deepEqual(replayed, [
      ['gone', 1],
      ['old', 2],
    ]);
    const [a] = await store.transact([
      { type: 'create', object: sliver('a') },
      { type: 'create', object: sliver('b') },
    ]);
    assert.equal(a?.metadata.resourceVersion, '3');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
