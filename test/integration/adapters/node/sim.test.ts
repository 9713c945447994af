// The simulated node: NodeAdapter behaviour, persistence across a restart and a killed process,
// failure injection, call counters and held calls.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimAdapter, SimAdapter, SIM_FIRST_UID } from '../../../../adapters/node/sim/index.js';
import { createNodeAdapter } from '../../../../adapters/node/index.js';
import { ConflictError, NotFoundError, StorageError, UsageError } from '../../../../resources/errors.js';
import { DEFAULT_RSPEC } from '../../../../resources/rspec.js';
import type { RSpec } from '../../../../schemas/types.js';

const TIMEOUT = { timeout: 20_000 };

// Removed after every test of the file, so adapters closed in a test's own `after` go first.
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slv-sim-'));
  dirs.push(dir);
  return dir;
}

test('accounts get stable uids from 1000 and keep their class', TIMEOUT, async (t) => {
  const sim = createSimAdapter({ dataDir: tempDir() });
  t.after(() => sim.close());
  const a = await sim.createAccount('alpha', 'sliver', 'sliver.VServer');
  const b = await sim.createAccount('beta', 'delegate');
  assert.deepEqual(a, { name: 'alpha', uid: SIM_FIRST_UID, class: 'sliver', type: 'sliver.VServer' });
  assert.deepEqual(b, { name: 'beta', uid: SIM_FIRST_UID + 1, class: 'delegate' });
  assert.deepEqual(await sim.createAccount('alpha', 'sliver', 'sliver.VServer'), a, 'creating an existing account returns it');
  await assert.rejects(sim.createAccount('alpha', 'delegate'), ConflictError);
  await assert.rejects(sim.createAccount('root', 'sliver'), ConflictError);
  assert.equal(await sim.accountNameByUid(0), 'root');
  assert.equal(await sim.accountNameByUid(SIM_FIRST_UID + 1), 'beta');
  assert.equal(await sim.accountNameByUid(4242), undefined);
  assert.deepEqual((await sim.listAccounts()).map((x) => x.name).sort(), ['alpha', 'beta']);
  await sim.destroyAccount('alpha');
  await sim.destroyAccount('alpha'); // absent is fine
  assert.equal(await sim.getAccount('alpha'), undefined);
  assert.equal((await sim.createAccount('gamma', 'sliver')).uid, SIM_FIRST_UID + 2, 'a uid below the highest is not reused');
});

test('keys, init script, limits and run state are kept; missing accounts are refused', TIMEOUT, async (t) => {
  const sim = createSimAdapter({ dataDir: tempDir() });
  t.after(() => sim.close());
  await sim.createAccount('alpha', 'sliver');
  await sim.setKeys('alpha', ['ssh-rsa AAA one', 'ssh-rsa BBB two']);
  await sim.setInitscript('alpha', '#!/bin/sh\necho hi\n');
  assert.equal(await sim.isRunning('alpha'), false);
  await sim.start('alpha');
  assert.equal(await sim.isRunning('alpha'), true);
  const report = await sim.applyLimits('alpha', { ...DEFAULT_RSPEC, enabled: 0 });
  assert.deepEqual(report.unsupported, []);
  const record = sim.inspect('alpha');
  assert.deepEqual(record?.keys, ['ssh-rsa AAA one', 'ssh-rsa BBB two']);
  assert.equal(record?.initscript, '#!/bin/sh\necho hi\n');
  assert.equal(record?.loginEnabled, false, 'enabled 0 disables login');
  assert.equal(record?.limits?.enabled, 0);
  await sim.stop('alpha');
  assert.equal(await sim.isRunning('alpha'), false);
  await assert.rejects(sim.setKeys('nobody', []), NotFoundError);
  await assert.rejects(sim.start('nobody'), /account "nobody" not found/);
});

test('a restart sees what exists, both after close and after the process is killed', TIMEOUT, async (t) => {
  const dir = tempDir();
  const first = createSimAdapter({ dataDir: dir });
  await first.createAccount('alpha', 'sliver');
  await first.setKeys('alpha', ['k1']);
  await first.close();

  // A child process makes changes and is killed before it can write a snapshot.
  const script = `
    import { createSimAdapter } from ${JSON.stringify(new URL('../../../../adapters/node/sim/index.ts', import.meta.url).pathname)};
    const sim = createSimAdapter({ dataDir: ${JSON.stringify(dir)} });
    await sim.createAccount('beta', 'delegate');
    await sim.start('alpha');
    await sim.destroyAccount('gone-never-existed');
    process.kill(process.pid, 'SIGKILL');
  `;
  assert.throws(() => execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'pipe', timeout: 15_000 }), /SIGKILL/);

  const second = createSimAdapter({ dataDir: dir });
  t.after(() => second.close());
  assert.deepEqual(await second.getAccount('beta'), { name: 'beta', uid: SIM_FIRST_UID + 1, class: 'delegate' });
  assert.equal(await second.isRunning('alpha'), true);
  assert.deepEqual(second.inspect('alpha')?.keys, ['k1']);
  assert.equal(second.callCount('createAccount'), 0, 'counters are per process');
});

test('a long journal is folded into the snapshot, and nothing is lost doing it', TIMEOUT, async () => {
  const dir = tempDir();
  const sim = createSimAdapter({ dataDir: dir });
  const count = 3000; // a few hundred KiB of journal: more than one fold
  for (let i = 0; i < count; i++) await sim.createAccount(`user${i}`, 'sliver', 'sliver.VServer');
  const journal = readFileSync(join(dir, 'sim-node.journal'), 'utf8').split('\n').filter(Boolean).length;
  assert.ok(journal < count, `the journal was folded (${journal} lines left)`);
  const snapshot = JSON.parse(readFileSync(join(dir, 'sim-node.json'), 'utf8')) as { records: Record<string, unknown> };
  assert.equal(Object.keys(snapshot.records).length + journal, count, 'the snapshot holds what was folded, the journal the rest');
  // Reopened without close: snapshot plus the rest of the journal.
  const reopened = createSimAdapter({ dataDir: dir });
  assert.equal((await reopened.listAccounts()).length, count);
  assert.equal((await reopened.getAccount(`user${count - 1}`))?.uid, SIM_FIRST_UID + count - 1);
  await reopened.close();
  await sim.close();
});

/** A sim node in a new dir with the sliver account alpha, keys ['k1'] and `rspec` applied. */
async function simWithAlpha(rspec: RSpec): Promise<{ dir: string; sim: SimAdapter }> {
  const dir = tempDir();
  const sim = createSimAdapter({ dataDir: dir });
  await sim.createAccount('alpha', 'sliver', 'sliver.VServer');
  await sim.setKeys('alpha', ['k1']);
  await sim.applyLimits('alpha', rspec);
  return { dir, sim };
}

test('a change journals only its fields, and a journal replayed over the snapshot it was folded into ends the same', TIMEOUT, async () => {
  const { dir, sim } = await simWithAlpha({ ...DEFAULT_RSPEC, enabled: 0 });
  await sim.start('alpha');
  await sim.setKeys('alpha', ['k2']);
  const journal = readFileSync(join(dir, 'sim-node.journal'), 'utf8');
  const lines = journal
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { key: string; value?: unknown; patch?: Record<string, unknown> });
  assert.deepEqual(lines.at(-1), { key: 'alpha', patch: { keys: ['k2'] } });
  const expected = sim.inspect('alpha');
  assert.equal(expected?.loginEnabled, false);
  await sim.close(); // folds the journal into the snapshot and empties it
  // A crash after the fold's rename but before the journal was emptied leaves both.
  writeFileSync(join(dir, 'sim-node.journal'), journal);
  const reopened = createSimAdapter({ dataDir: dir });
  assert.deepEqual(reopened.inspect('alpha'), expected);
  await reopened.close();
});

test('a change that sets nothing new journals nothing; a reopen with nothing to replay leaves the snapshot as it is', TIMEOUT, async () => {
  const { dir, sim } = await simWithAlpha({ ...DEFAULT_RSPEC });
  const journalLines = () => readFileSync(join(dir, 'sim-node.journal'), 'utf8').split('\n').filter(Boolean).length;
  const before = journalLines();
  await sim.setKeys('alpha', ['k1']);
  await sim.applyLimits('alpha', { ...DEFAULT_RSPEC });
  assert.equal(journalLines(), before, 'the same keys and limits again journal nothing');
  assert.equal(sim.callCount('setKeys'), 2, 'the calls still count');
  await sim.setKeys('alpha', ['k2']);
  assert.equal(journalLines(), before + 1);
  await sim.close(); // folds the journal: the snapshot holds everything, the journal is empty
  const snapshot = statSync(join(dir, 'sim-node.json'));
  const reopened = createSimAdapter({ dataDir: dir });
  assert.deepEqual(reopened.inspect('alpha')?.keys, ['k2']);
  const after = statSync(join(dir, 'sim-node.json'));
  assert.deepEqual([after.ino, after.mtimeMs], [snapshot.ino, snapshot.mtimeMs], 'the snapshot was not rewritten');
  await reopened.setKeys('alpha', ['k3']);
  await reopened.close();
  const third = createSimAdapter({ dataDir: dir });
  assert.deepEqual(third.inspect('alpha')?.keys, ['k3'], 'a later change still reaches the snapshot');
  await third.close();
});

test('a journal line torn by a crash is ignored; a foreign state file is refused untouched', TIMEOUT, async () => {
  const dir = tempDir();
  const sim = createSimAdapter({ dataDir: dir });
  await sim.createAccount('alpha', 'sliver');
  await sim.close();
  appendFileSync(join(dir, 'sim-node.journal'), '{"key":"beta","value":{"na');
  const reopened = createSimAdapter({ dataDir: dir });
  assert.deepEqual(
    (await reopened.listAccounts()).map((a) => a.name),
    ['alpha'],
  );
  await reopened.close();

  writeFileSync(join(dir, 'sim-node.json'), '{"format":"something-else","records":{}}');
  assert.throws(
    () => createSimAdapter({ dataDir: dir }),
    (e: unknown) => e instanceof StorageError && /sim-node\.json is not a slv-sim-node\/v1 file/.test(e.message),
  );
  writeFileSync(join(dir, 'sim-node.json'), '{not json');
  assert.throws(() => createSimAdapter({ dataDir: dir }), /sim-node\.json is not valid JSON/);
  assert.equal(readFileSync(join(dir, 'sim-node.json'), 'utf8'), '{not json', 'nothing was changed');
});

test('failures can be injected once, for one account, or by predicate; calls are counted', TIMEOUT, async (t) => {
  const sim = createSimAdapter({ dataDir: tempDir() });
  t.after(() => sim.close());
  sim.failNext('createAccount', new Error('disk full'));
  await assert.rejects(sim.createAccount('alpha', 'sliver'), /disk full/);
  assert.equal(await sim.getAccount('alpha'), undefined, 'a failed create creates nothing');
  await sim.createAccount('alpha', 'sliver');
  assert.equal(sim.callCount('createAccount'), 2);

  sim.failNext('start', new Error('no such init'), 'beta');
  await sim.start('alpha');
  await sim.createAccount('beta', 'sliver');
  await assert.rejects(sim.start('beta'), /no such init/);
  await sim.start('beta');

  const stopFailing = sim.failWhen((call) => (call.method === 'stop' ? new Error('stuck') : undefined));
  await assert.rejects(sim.stop('alpha'), /stuck/);
  await assert.rejects(sim.stop('alpha'), /stuck/);
  stopFailing();
  await sim.stop('alpha');
  assert.equal(sim.callCount('stop'), 3);
  assert.deepEqual(
    sim.history.filter((c) => c.method === 'start').map((c) => c.name),
    ['alpha', 'beta', 'beta'],
  );
});

test('the call history keeps the latest calls only', TIMEOUT, async () => {
  const sim = createSimAdapter({ dataDir: tempDir(), historyLimit: 3 });
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) await sim.getAccount(name);
  assert.ok(sim.history.length <= 6);
  assert.deepEqual(
    sim.history.slice(-3).map((c) => c.name),
    ['d', 'e', 'f'],
  );
  assert.equal(sim.history[0]?.name, 'd', 'the oldest were dropped');
  assert.equal(sim.callCount('getAccount'), 6, 'counters still count everything');
  await sim.close();
});

test("slvd's sim keeps no call history, and still counts its calls", TIMEOUT, async (t) => {
  const adapter = await createNodeAdapter('sim', { dataDir: tempDir() });
  t.after(() => adapter.close());
  assert.ok(adapter instanceof SimAdapter);
  await adapter.createAccount('pl_alpha', 'sliver');
  await adapter.getAccount('pl_alpha');
  assert.deepEqual(adapter.history, []);
  assert.equal(adapter.callCount('createAccount'), 1);
  assert.equal(adapter.callCount('getAccount'), 1);
});

test('held calls stay in flight until released', TIMEOUT, async (t) => {
  const sim = createSimAdapter({ dataDir: tempDir() });
  t.after(() => sim.close());
  sim.hold('createAccount');
  const pending = [sim.createAccount('alpha', 'sliver'), sim.createAccount('beta', 'sliver')];
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sim.inFlight('createAccount'), 2);
  assert.equal(await sim.getAccount('alpha'), undefined);
  sim.release('createAccount');
  await Promise.all(pending);
  assert.equal(sim.inFlight('createAccount'), 0);
  assert.equal(sim.maxInFlight('createAccount'), 2);
});

test('createNodeAdapter opens the sim and names what is wrong with an unknown kind', TIMEOUT, async (t) => {
  const adapter = await createNodeAdapter('sim', { dataDir: tempDir() });
  t.after(() => adapter.close());
  assert.equal(adapter.kind, 'sim');
  await assert.rejects(createNodeAdapter('bogus' as 'sim', { dataDir: tempDir() }), (e: unknown) => e instanceof UsageError && /unknown node adapter "bogus"/.test(e.message));
});

test('a start runs the init script as the test says: its outcome and log; a running sliver is not started again', TIMEOUT, async () => {
  const sim = createSimAdapter({ dataDir: tempDir() });
  try {
    await sim.createAccount('pl_alpha', 'sliver');
    await sim.start('pl_alpha');
    assert.equal(await sim.initOutcome('pl_alpha'), undefined, 'no init script, no run');
    await sim.stop('pl_alpha');
    await sim.setInitscript('pl_alpha', '#!/bin/sh\nexec proxy\n');
    sim.setInitscriptResult('pl_alpha', { exitCode: 127, output: 'one\nexec: proxy: not found\n' });
    await sim.start('pl_alpha');
    const outcome = await sim.initOutcome('pl_alpha');
    assert.equal(outcome?.exitCode, 127);
    assert.equal(outcome?.tail, 'one\nexec: proxy: not found');
    assert.deepEqual(await sim.readInitLog('pl_alpha', 4), { text: 'exec: proxy: not found\n', nextOffset: 27 });
    sim.setInitscriptResult('pl_alpha', undefined);
    await sim.start('pl_alpha');
    assert.equal((await sim.initOutcome('pl_alpha'))?.exitCode, 127, 'already running: the script did not run again');
  } finally {
    await sim.close();
  }
});
