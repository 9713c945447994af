// The account controller through the real runtime, the SQLite store and the sim node.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openSqliteStore } from '../../../../adapters/store/sqlite.js';
import { ACCOUNT_FINALIZER } from '../../../../controller/controllers/index.js';
import { createSimAdapter, SIM_FIRST_UID, type SimAdapter } from '../../../../adapters/node/sim/index.js';
import { AccountNameTakenError, MissingImageError } from '../../../../resources/errors.js';
import { API_VERSION, type Delegate } from '../../../../schemas/types.js';
import { condition, createSliver, FakeClock, editSliver, loansOf, removeTempDirs, setLoans, startDaemon, tempDir, TEST_TIMEOUT } from '../../../support/controllers-harness.js';

after(removeTempDirs);

/** The account lifecycle calls made since `mark` (an index into the sim's call history). */
function lifecycleCalls(node: SimAdapter, mark: number): string[] {
  return node.history
    .slice(mark)
    .map((call) => call.method)
    .filter((method) => ['destroyAccount', 'createAccount', 'start', 'stop'].includes(method));
}

test('a PLC sliver gets an account with keys and init script, is started and becomes Ready', TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock();
  const daemon = await startDaemon({ clock });
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'alpha', { keys: ['ssh-rsa AAA alpha'], initscript: '#!/bin/sh\n', rspec: { cpu_share: 64 } });
  await daemon.settle();

  const account = node.inspect('alpha');
  assert.equal(account?.class, 'sliver');
  assert.equal(account?.type, 'sliver.VServer');
  assert.deepEqual(account?.keys, ['ssh-rsa AAA alpha']);
  assert.equal(account?.initscript, '#!/bin/sh\n');
  assert.equal(account?.running, true);
  assert.equal(account?.limits?.cpu_share, 64);
  const sliver = await store.get('Sliver', 'alpha');
  assert.deepEqual(sliver.metadata.finalizers, [ACCOUNT_FINALIZER]);
  assert.equal(sliver.status?.xid, account?.uid);
  assert.equal(sliver.status?.running, true);
  assert.equal(sliver.status?.observedGeneration, sliver.metadata.generation);
  assert.deepEqual(sliver.status?.appliedRSpec, sliver.status?.effectiveRSpec);
  for (const type of ['AccountReady', 'ResourcesApplied', 'Ready']) assert.equal(condition(sliver, type)?.status, 'True', type);

  // Later changes that leave keys and init script alone reinstall neither; a key change does.
  clock.advance(60_000);
  const calls = { keys: node.callCount('setKeys'), init: node.callCount('setInitscript'), limits: node.callCount('applyLimits') };
  await editSliver(store, 'alpha', (spec) => ({ ...spec, attributes: { note: 'x' } }));
  await daemon.settle();
  assert.deepEqual({ keys: node.callCount('setKeys'), init: node.callCount('setInitscript'), limits: node.callCount('applyLimits') }, calls);
  await editSliver(store, 'alpha', (spec) => ({ ...spec, keys: ['ssh-rsa BBB new'] }));
  await daemon.settle();
  assert.equal(node.callCount('setKeys'), calls.keys + 1);
  assert.equal(node.callCount('setInitscript'), calls.init);
  assert.deepEqual(node.inspect('alpha')?.keys, ['ssh-rsa BBB new']);
  assert.equal(node.callCount('createAccount'), 1);
  assert.equal(node.callCount('start'), 1);
  const later = await store.get('Sliver', 'alpha');
  assert.equal(later.status?.observedGeneration, later.metadata.generation);
  assert.equal(
    later.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime,
    sliver.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime,
    'no flip, so no new transition time',
  );
});

test('a sliver PLC drops loses its account and its loans', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'alpha');
  await createSliver(store, 'beta');
  await createSliver(store, 'gamma');
  await setLoans(store, 'alpha', [['beta', 'cpu_share', 4]]);
  await setLoans(store, 'gamma', [
    ['alpha', 'cpu_share', 4],
    ['beta', 'cpu_share', 4],
  ]);
  await daemon.settle();
  assert.ok(node.inspect('alpha'));

  await store.delete('Sliver', 'alpha');
  await daemon.settle();
  assert.equal(node.inspect('alpha'), undefined, 'account destroyed');
  assert.equal(await store.tryGet('Sliver', 'alpha'), undefined, 'finalizer removed, object gone');
  assert.deepEqual(await loansOf(store, 'alpha'), [], 'loans from it vanish');
  assert.deepEqual(
    (await loansOf(store, 'gamma')).map((l) => l.spec.to),
    ['beta'],
    'loans to it vanish',
  );
  assert.equal((await store.get('Sliver', 'beta')).status?.effectiveRSpec?.cpu_share, 32 + 4);
  assert.ok(node.inspect('beta'), 'others untouched');
});

test('a sliver deleted and created again (as PLC does) gets its uid back, also across a daemon restart; a new sliver never takes it', TEST_TIMEOUT, async () => {
  const dataDir = tempDir();
  let daemon = await startDaemon({ dir: dataDir });
  await createSliver(daemon.store, 'alpha');
  await daemon.settle();
  const uid = (await daemon.store.get('Sliver', 'alpha')).status?.xid;
  assert.ok(uid !== undefined);
  await daemon.store.delete('Sliver', 'alpha');
  await daemon.settle();
  assert.equal(daemon.node.inspect('alpha'), undefined, 'account destroyed');
  await daemon.stop();

  daemon = await startDaemon({ dir: dataDir });
  try {
    await createSliver(daemon.store, 'newcomer');
    await createSliver(daemon.store, 'alpha');
    await daemon.settle();
    assert.equal((await daemon.store.get('Sliver', 'alpha')).status?.xid, uid, 'alpha has its uid back');
    assert.notEqual((await daemon.store.get('Sliver', 'newcomer')).status?.xid, uid);
  } finally {
    await daemon.stop();
  }
});

test('with the rspec controller switched off, a deleted or expired sliver still loses its loans', TEST_TIMEOUT, async (t) => {
  // The Loan indexes belong to the runtime: the account and expiry controllers read them whether
  // or not the rspec controller (which used to feed them) runs.
  const clock = new FakeClock(1_700_000_000_000);
  const daemon = await startDaemon({ clock, without: ['rspec'] });
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'alpha');
  await createSliver(store, 'beta');
  await createSliver(store, 'soon', { expires: 1_700_000_010 });
  await setLoans(store, 'alpha', [['beta', 'cpu_share', 4]]);
  await setLoans(store, 'beta', [
    ['alpha', 'cpu_share', 4],
    ['soon', 'cpu_share', 2],
  ]);
  await setLoans(store, 'soon', [['beta', 'cpu_share', 1]]);
  await daemon.settle();
  assert.equal((await store.get('Sliver', 'beta')).status?.effectiveRSpec, undefined, 'no rspec controller: nothing computed');

  await store.delete('Sliver', 'alpha');
  await daemon.settle();
  assert.equal(node.inspect('alpha'), undefined, 'account destroyed');
  assert.deepEqual(await loansOf(store, 'alpha'), [], 'loans from the deleted sliver vanish');
  assert.deepEqual(
    (await loansOf(store, 'beta')).map((l) => l.spec.to),
    ['soon'],
    'loans to it vanish',
  );

  clock.advance(10_001);
  await daemon.settle();
  assert.equal(await store.tryGet('Sliver', 'soon'), undefined, 'expired');
  assert.deepEqual(await loansOf(store, 'soon'), [], 'loans from the expired sliver vanish');
  assert.deepEqual(await loansOf(store, 'beta'), [], 'loans to it vanish');
});

test('a sliver deleted while the daemon is down loses its account at the next start', TEST_TIMEOUT, async () => {
  const dir = tempDir();
  const first = await startDaemon({ dir });
  await createSliver(first.store, 'alpha');
  await first.settle();
  await first.stop();

  // PLC (or slvctl) deletes it while no daemon runs: the finalizer keeps the object.
  const store = openSqliteStore(join(dir, 'store.db'));
  const deleting = await store.delete('Sliver', 'alpha');
  await store.close();
  assert.ok(deleting?.metadata.deletionTimestamp, 'held by the finalizer');

  const second = await startDaemon({ dir });
  try {
    await second.settle();
    assert.equal(second.node.inspect('alpha'), undefined);
    assert.equal(await second.store.tryGet('Sliver', 'alpha'), undefined);
  } finally {
    await second.stop();
  }
});

test('a crash between "account created" and "status written" converges after restart without a second create', TEST_TIMEOUT, async () => {
  const dir = tempDir();
  // The daemon runs in a child process that holds the call after createAccount and is then killed.
  const harness = new URL('../../../support/controllers-harness.ts', import.meta.url).pathname;
  const script = `
    import { createSliver, startDaemon } from ${JSON.stringify(harness)};
    const daemon = await startDaemon({ dir: ${JSON.stringify(dir)} });
    daemon.node.hold('setKeys');
    await createSliver(daemon.store, 'alpha', { keys: ['k'] });
    const timer = setInterval(() => {
      if (daemon.node.inFlight('setKeys') > 0) { clearInterval(timer); process.stdout.write('created\\n'); }
    }, 5);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => data.toString().includes('created') && resolve());
    child.on('exit', () => reject(new Error('the daemon child exited before creating the account')));
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const before = createSimAdapter({ dataDir: dir });
  const created = before.inspect('alpha');
  await before.close();
  assert.equal(created?.uid, SIM_FIRST_UID, 'the account was created before the crash');

  const daemon = await startDaemon({ dir });
  try {
    await daemon.settle();
    assert.equal(daemon.node.callCount('createAccount'), 0, 'no second create');
    const sliver = await daemon.store.get('Sliver', 'alpha');
    assert.equal(sliver.status?.xid, SIM_FIRST_UID);
    assert.equal(condition(sliver, 'Ready')?.status, 'True');
    assert.deepEqual(daemon.node.inspect('alpha')?.keys, ['k']);
  } finally {
    await daemon.stop();
  }
});

test('a type change destroys the account, creates it again and starts it', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'alpha');
  await daemon.settle();
  const first = node.inspect('alpha');
  const mark = node.history.length;
  await editSliver(store, 'alpha', (spec) => ({ ...spec, type: 'sliver.LXC' }));
  await daemon.settle();
  assert.deepEqual(lifecycleCalls(node, mark), ['destroyAccount', 'createAccount', 'start']);
  assert.equal(node.inspect('alpha')?.type, 'sliver.LXC');
  assert.equal(node.inspect('alpha')?.uid, first?.uid, 'the new account keeps the uid');
  assert.equal((await store.get('Sliver', 'alpha')).status?.xid, node.inspect('alpha')?.uid);
});

/** Managed accounts on a sim node before the daemon first starts on it: slv has no record of them. */
async function nodeWithAccounts(accounts: Array<[string, 'sliver' | 'delegate']>): Promise<string> {
  const dir = tempDir();
  const node = createSimAdapter({ dataDir: dir });
  for (const [name, accountClass] of accounts) await node.createAccount(name, accountClass);
  await node.close();
  return dir;
}

test('orphan sweep: managed accounts slv has no record of are reported in a Warning Event and kept; a named one is reused', TEST_TIMEOUT, async () => {
  const dir = await nodeWithAccounts([
    ['orphan', 'sliver'],
    ['stale', 'delegate'],
    ['kept', 'delegate'],
  ]);
  const daemon = await startDaemon({ dir });
  try {
    await daemon.store.create<Delegate>({ apiVersion: API_VERSION, kind: 'Delegate', metadata: { name: 'kept' }, spec: { keys: ['ssh-ed25519 K'], timestamp: 1 } });
    await daemon.settle();
    assert.deepEqual((await daemon.node.listAccounts()).map((a) => a.name).sort(), ['kept', 'orphan', 'stale']);
    assert.equal(daemon.node.callCount('destroyAccount'), 0, 'nothing slv did not create is destroyed');
    assert.equal(daemon.node.callCount('createAccount'), 0, 'the delegate account was reused');
    assert.deepEqual(daemon.node.inspect('kept')?.keys, ['ssh-ed25519 K']);
    const delegate = await daemon.store.get('Delegate', 'kept');
    assert.equal(delegate.status?.uid, daemon.node.inspect('kept')?.uid);
    assert.equal(condition(delegate, 'Ready')?.status, 'True');
    const reports = (await daemon.store.list('Event')).items.filter((event) => event.spec.reason === 'UnrecordedAccount');
    assert.deepEqual(reports.map((event) => [event.spec.type, event.spec.involvedObject.kind, event.spec.involvedObject.name]).sort(), [
      ['Warning', 'Delegate', 'stale'],
      ['Warning', 'Sliver', 'orphan'],
    ]);
    const orphan = reports.find((event) => event.spec.involvedObject.name === 'orphan');
    assert.match(orphan?.spec.message ?? '', /^sliver account orphan \(uid \d+\) has a managed shell but slv has no record of creating it: kept; .*--adopt-orphans/);
  } finally {
    await daemon.stop();
  }
});

test('orphan sweep with adoptOrphans (slvd --adopt-orphans) destroys managed accounts no object names, also on an empty store when slvd queues it', TEST_TIMEOUT, async () => {
  const dir = await nodeWithAccounts([
    ['leftover', 'sliver'],
    ['stale', 'delegate'],
  ]);
  const daemon = await startDaemon({ dir, adoptOrphans: true });
  try {
    await daemon.settle();
    assert.ok(daemon.node.inspect('leftover'), 'no object, no change: nothing queued the sweep yet');
    daemon.controllers.sweepOrphans();
    await daemon.settle();
    assert.deepEqual(await daemon.node.listAccounts(), []);
  } finally {
    await daemon.stop();
  }
});

test("an nm-controller sliver gets a delegate-class account; a Delegate cannot take a live Sliver's name, but takes over one being deleted", TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  const sharedDelegate: Delegate = { apiVersion: API_VERSION, kind: 'Delegate', metadata: { name: 'shared' }, spec: { keys: ['ssh-rsa D'], timestamp: 1 } };
  await createSliver(store, 'ctl', { instantiation: 'nm-controller', keys: ['ssh-rsa CTL'] });
  await createSliver(store, 'shared');
  await daemon.settle();
  await assert.rejects(store.create(sharedDelegate), AccountNameTakenError);
  assert.equal(node.inspect('ctl')?.class, 'delegate');
  assert.deepEqual(node.inspect('ctl')?.keys, ['ssh-rsa CTL']);
  assert.equal(node.inspect('ctl')?.running, false, 'a delegate-class account is not started');
  const ctl = await store.get('Sliver', 'ctl');
  assert.equal(condition(ctl, 'Ready')?.status, 'True');
  assert.equal(ctl.status?.xid, node.inspect('ctl')?.uid);
  assert.equal(node.inspect('shared')?.class, 'sliver', 'the Sliver keeps its account');

  // The Sliver being deleted (its account finalizer still pending) gives the name up.
  const uid = node.inspect('shared')?.uid;
  node.hold('destroyAccount');
  await store.delete('Sliver', 'shared');
  await store.create(sharedDelegate);
  node.release('destroyAccount');
  await daemon.settle();
  assert.equal(await store.tryGet('Sliver', 'shared'), undefined);
  assert.equal(node.inspect('shared')?.class, 'delegate');
  assert.equal(node.inspect('shared')?.uid, uid, 'the name keeps its uid');
  assert.equal(condition(await store.get('Delegate', 'shared'), 'Ready')?.status, 'True');
});

test('a delegated sliver gets its account only once instantiated, and loses it on Destroy', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'deleg', { instantiation: 'delegated' });
  await daemon.settle();
  assert.equal(node.inspect('deleg'), undefined);
  const waiting = await store.get('Sliver', 'deleg');
  assert.equal(condition(waiting, 'AccountReady')?.reason, 'NotInstantiated');
  assert.equal(condition(waiting, 'Ready')?.status, 'False');

  await editSliver(store, 'deleg', (spec) => ({ ...spec, run: { instantiated: true } }));
  await daemon.settle();
  assert.equal(node.inspect('deleg')?.running, true);
  assert.equal(condition(await store.get('Sliver', 'deleg'), 'Ready')?.status, 'True');

  await editSliver(store, 'deleg', (spec) => ({ ...spec, run: { instantiated: false } }));
  await daemon.settle();
  assert.equal(node.inspect('deleg'), undefined);
  const destroyed = await store.get('Sliver', 'deleg');
  assert.equal(destroyed.status?.xid, undefined);
  assert.equal(condition(destroyed, 'AccountReady')?.reason, 'NotInstantiated');
});

test('run state: Stop, Start and ReCreate are declarative', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'alpha');
  await daemon.settle();

  await editSliver(store, 'alpha', (spec) => ({ ...spec, run: { state: 'Stopped' } }));
  await daemon.settle();
  assert.equal(node.inspect('alpha')?.running, false);
  let sliver = await store.get('Sliver', 'alpha');
  assert.equal(sliver.status?.running, false);
  assert.equal(condition(sliver, 'Ready')?.reason, 'Stopped');

  await editSliver(store, 'alpha', (spec) => ({ ...spec, run: { state: 'Running' } }));
  await daemon.settle();
  assert.equal(node.inspect('alpha')?.running, true);
  assert.equal(condition(await store.get('Sliver', 'alpha'), 'Ready')?.status, 'True');

  const uid = node.inspect('alpha')?.uid;
  const mark = node.history.length;
  await editSliver(store, 'alpha', (spec) => ({ ...spec, run: { state: 'Running', recreate: 1 } }));
  await daemon.settle();
  assert.deepEqual(lifecycleCalls(node, mark), ['stop', 'destroyAccount', 'createAccount', 'start']);
  sliver = await store.get('Sliver', 'alpha');
  assert.equal(sliver.status?.recreated, 1);
  assert.equal(sliver.status?.xid, uid, 'ReCreate keeps the uid');
  assert.equal(condition(sliver, 'Ready')?.status, 'True');
  await daemon.settle();
  assert.equal(node.callCount('createAccount'), 2, 'one ReCreate, one recreation');
});

test('a disabled sliver is stopped with login disabled', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'alpha');
  await daemon.settle();
  assert.equal(node.inspect('alpha')?.running, true);
  await editSliver(store, 'alpha', (spec) => ({ ...spec, rspec: { enabled: 0 } }));
  await daemon.settle();
  const account = node.inspect('alpha');
  assert.equal(account?.running, false);
  assert.equal(account?.loginEnabled, false);
  assert.equal(account?.limits?.enabled, 0);
  assert.equal(condition(await store.get('Sliver', 'alpha'), 'Ready')?.reason, 'Disabled');
});

test('after a restart existing slivers are reconfigured, not restarted', TEST_TIMEOUT, async () => {
  const dir = tempDir();
  const first = await startDaemon({ dir });
  await createSliver(first.store, 'alpha', { keys: ['k'] });
  await first.settle();
  await first.node.stop('alpha'); // the node rebooted: the sliver is down
  await first.stop();

  const second = await startDaemon({ dir });
  try {
    await second.settle();
    assert.equal(second.node.callCount('start'), 0, 'not restarted without --startup');
    assert.equal(second.node.callCount('createAccount'), 0);
    assert.equal(second.node.callCount('setKeys'), 1, 'reconfigured');
    assert.equal(second.node.callCount('applyLimits'), 1, 'reconfigured');
    const sliver = await second.store.get('Sliver', 'alpha');
    assert.equal(sliver.status?.running, false);
    assert.equal(condition(sliver, 'Ready')?.reason, 'NotRunning');

    // Start (spec.run.start bumped) starts it although spec.run.state already says Running.
    await editSliver(second.store, 'alpha', (spec) => ({ ...spec, run: { ...spec.run, start: 1 } }));
    await second.settle();
    assert.equal(second.node.callCount('start'), 1);
    const started = await second.store.get('Sliver', 'alpha');
    assert.equal(started.status?.startsHandled, 1);
    assert.equal(condition(started, 'Ready')?.status, 'True');
    await editSliver(second.store, 'alpha', (spec) => ({ ...spec, keys: ['k2'] }));
    await second.settle();
    assert.equal(second.node.callCount('start'), 1, 'a handled Start is not repeated');
  } finally {
    await second.stop();
  }
});

test('creates are serialized node-wide, and so are destroys', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon({ workers: 4 });
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  node.hold('createAccount');
  for (const name of ['a1', 'a2', 'a3', 'a4']) await createSliver(store, name);
  while (node.inFlight('createAccount') === 0) await new Promise((resolve) => setImmediate(resolve));
  node.release('createAccount');
  await daemon.settle();
  assert.equal(node.callCount('createAccount'), 4);
  assert.equal(node.maxInFlight('createAccount'), 1);

  node.hold('destroyAccount');
  for (const name of ['a1', 'a2', 'a3', 'a4']) await store.delete('Sliver', name);
  while (node.inFlight('destroyAccount') === 0) await new Promise((resolve) => setImmediate(resolve));
  node.release('destroyAccount');
  await daemon.settle();
  assert.deepEqual(await node.listAccounts(), []);
  assert.equal(node.maxInFlight('destroyAccount'), 1);
});

test('a node failure is reported in status and retried with backoff', TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock();
  const daemon = await startDaemon({ clock });
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  const stopFailing = node.failWhen((call) => (call.method === 'createAccount' ? new Error('useradd: cannot lock /etc/passwd') : undefined));
  await createSliver(store, 'alpha');
  await daemon.settle();
  const failed = await store.get('Sliver', 'alpha');
  assert.equal(condition(failed, 'Ready')?.reason, 'NodeError');
  assert.match(failed.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /cannot lock \/etc\/passwd/);
  const attempts = node.callCount('createAccount');
  clock.advance(10);
  await daemon.settle();
  assert.ok(node.callCount('createAccount') > attempts, 'retried after the backoff delay');
  stopFailing();
  clock.advance(1000);
  await daemon.settle();
  assert.equal(condition(await store.get('Sliver', 'alpha'), 'Ready')?.status, 'True');
  assert.equal(node.inspect('alpha')?.running, true);
});

test("the sliver's vref reaches the node's create; an image the node lacks is an ImageMissing not-Ready reason until it appears", TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock();
  const daemon = await startDaemon({ clock });
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  await createSliver(store, 'plain');
  const stopFailing = node.failWhen((call) =>
    call.method === 'createAccount' && call.name === 'f99' ? new MissingImageError('lxc-f99', 'LXC image "lxc-f99" is missing: /var/lib/slv/images/lxc-f99 has no root filesystem') : undefined,
  );
  await createSliver(store, 'f37', { vref: 'lxc-f37-x86_64' });
  await createSliver(store, 'f99', { vref: 'lxc-f99' });
  await daemon.settle();
  assert.equal(node.inspect('f37')?.vref, 'lxc-f37-x86_64');
  assert.equal(node.inspect('plain')?.vref, undefined, 'no vref: the node picks its default');
  const missing = condition(await store.get('Sliver', 'f99'), 'Ready');
  assert.deepEqual([missing?.status, missing?.reason], ['False', 'ImageMissing']);
  assert.match((await store.get('Sliver', 'f99')).status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /image is not on this node: LXC image "lxc-f99" is missing/);
  assert.equal(condition(await store.get('Sliver', 'f37'), 'Ready')?.status, 'True', 'one missing image blocks no other sliver');

  stopFailing(); // the operator installs the image: the retry creates the sliver from it
  clock.advance(1000);
  await daemon.settle();
  assert.equal(condition(await store.get('Sliver', 'f99'), 'Ready')?.status, 'True');
  assert.equal(node.inspect('f99')?.vref, 'lxc-f99');
});

test('a name the node cannot make an account of: that sliver is not Ready with the reason, not retried; the others carry on', TEST_TIMEOUT, async (t) => {
  const clock = new FakeClock();
  const daemon = await startDaemon({ clock });
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  // A PLC slice name of 40 characters: valid for PLC, too long for a Linux node's account tools
  // (the sim node applies the same rule as the linux adapter).
  const long = `princeton_${'x'.repeat(30)}`;
  const mark = node.history.length;
  await createSliver(store, long);
  await createSliver(store, '3dlab_render');
  await daemon.settle();
  const attempts = () => node.history.slice(mark).filter((call) => call.method === 'createAccount' && call.name === long).length;
  const settled = attempts();
  clock.advance(600_000);
  await daemon.settle();

  const refused = await store.get('Sliver', long);
  assert.deepEqual([condition(refused, 'Ready')?.status, condition(refused, 'Ready')?.reason], ['False', 'AccountNameUnsupported']);
  assert.match(refused.status?.conditions?.find((c) => c.type === 'AccountReady')?.message ?? '', /invalid account name "princeton_x+": .* at most 32 characters/);
  assert.equal(attempts(), settled, 'no retries with backoff: retrying cannot help');
  assert.equal(condition(await store.get('Sliver', '3dlab_render'), 'Ready')?.status, 'True');
});
