// The linux node adapter as root in a temporary root prefix with a test cgroup parent: the shared
// contract, then what it leaves on the node (passwd, shells, homes, keys, init script, processes,
// cgroup files) and that the host's /etc is untouched.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupVersionAt, cpuFiles, CpuCgroups, defaultCgroupParent } from '../../../../adapters/node/posix/cgroup.js';
import { createNodeAdapter } from '../../../../adapters/node/index.js';
import { createLinuxAdapter } from '../../../../adapters/node/linux/index.js';
import { ConflictError, InvalidError, NotFoundError, UnavailableError } from '../../../../resources/errors.js';
import { DEFAULT_RSPEC } from '../../../../resources/rspec.js';
import { runNodeAdapterContract } from '../../../support/node-adapter-contract.js';
import { hostEtcHashes, makeTestRoot, SKIP_TEST_ROOTS, pidsOf, RecordingBandwidthLimiter, removeTestRoots, waitForFile, waitUntil } from '../../../support/test-roots.js';

after(removeTestRoots);

function linuxNode(label = 'linux') {
  const root = makeTestRoot(label);
  return { ...root, adapter: createLinuxAdapter({ dataDir: root.dataDir, root: root.root, cgroupParent: root.cgroupParent, uidRange: root.uidRange }) };
}

runNodeAdapterContract('linux (temporary root prefix, test cgroup parent)', async () => linuxNode().adapter, { skip: SKIP_TEST_ROOTS });

const T = { timeout: 30_000, skip: SKIP_TEST_ROOTS };

function passwdLine(root: string, name: string): string | undefined {
  return readFileSync(join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${name}:`));
}

test('slivers and delegates are accounts in the root prefix with managed shells; the host /etc is untouched', T, async (t) => {
  const before = hostEtcHashes();
  const node = makeTestRoot('linux');
  const shellSource = join(node.dataDir, 'forward_api_calls');
  writeFileSync(shellSource, '#!/bin/sh\necho delegate shell\n');
  const adapter = createLinuxAdapter({ dataDir: node.dataDir, root: node.root, cgroupParent: node.cgroupParent, uidRange: node.uidRange, delegateShellSource: shellSource });
  t.after(() => adapter.close());

  const sliver = await adapter.createAccount('pl_alpha', 'sliver', 'sliver.VServer');
  const delegate = await adapter.createAccount('del_beta', 'delegate');
  assert.ok(sliver.uid >= node.uidRange.min && sliver.uid <= node.uidRange.max, 'uid from the configured range');
  assert.match(passwdLine(node.root, 'pl_alpha') ?? '', new RegExp(`^pl_alpha:x:${sliver.uid}:\\d+:slv sliver\\.VServer:/home/pl_alpha:/bin/vsh$`));
  assert.match(passwdLine(node.root, 'del_beta') ?? '', new RegExp(`^del_beta:x:${delegate.uid}:\\d+::/home/del_beta:/bin/forward_api_calls$`));
  assert.deepEqual(readFileSync(join(node.root, 'etc/shells'), 'utf8').split('\n').filter(Boolean), ['/bin/vsh', '/bin/forward_api_calls']);
  assert.equal(statSync(join(node.root, 'bin/vsh')).mode & 0o777, 0o755);
  assert.match(readFileSync(join(node.root, 'bin/vsh'), 'utf8'), new RegExp(`${node.cgroupParent}'/"\\$\\(id -un\\)"/cgroup.procs`));
  assert.equal(readFileSync(join(node.root, 'bin/forward_api_calls'), 'utf8'), '#!/bin/sh\necho delegate shell\n');
  const home = statSync(join(node.root, 'home/pl_alpha'));
  assert.equal(home.uid, sliver.uid);
  assert.equal(existsSync('/home/pl_alpha'), false, 'nothing was made on the host');

  // An account slv does not manage is neither listed, taken over nor destroyed.
  appendFileSync(join(node.root, 'etc/passwd'), `daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n`);
  assert.equal(await adapter.accountNameByUid(1), 'daemon');
  await assert.rejects(adapter.createAccount('daemon', 'sliver'), (e: unknown) => e instanceof ConflictError && /not managed by slv \(login shell \/usr\/sbin\/nologin\)/.test(e.message));
  await assert.rejects(adapter.destroyAccount('daemon'), NotFoundError);
  assert.ok(passwdLine(node.root, 'daemon'));

  await adapter.destroyAccount('pl_alpha');
  await adapter.destroyAccount('del_beta');
  assert.equal(passwdLine(node.root, 'pl_alpha'), undefined);
  assert.equal(existsSync(join(node.root, 'home/pl_alpha')), false, 'home removed');
  assert.doesNotMatch(readFileSync(join(node.root, 'etc/group'), 'utf8'), /pl_alpha|del_beta/, 'user groups removed');
  assert.equal(existsSync(join(node.cgroupParent, 'pl_alpha')), false, 'cgroup removed');
  assert.deepEqual(hostEtcHashes(), before, 'the host /etc/passwd, shadow, group, gshadow and shells are unchanged');
});

test('bad names, types and keys are refused naming what is wrong, and nothing is written', T, async (t) => {
  const { adapter, root } = linuxNode();
  t.after(() => adapter.close());
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
  for (const name of ['../etc', 'Pl', '1abc', 'a b', '', 'x'.repeat(33), `princeton_${'x'.repeat(30)}`]) {
    await assert.rejects(adapter.createAccount(name, 'sliver'), (e: unknown) => e instanceof InvalidError && e.message.includes(`invalid account name "${name}"`));
  }
  await assert.rejects(adapter.createAccount('pl_alpha', 'sliver', 'sliver VServer'), (e: unknown) => e instanceof InvalidError && /invalid sliver type "sliver VServer"/.test(e.message));
  assert.equal(readFileSync(join(root, 'etc/passwd'), 'utf8'), passwd);
  await adapter.createAccount('pl_alpha', 'sliver');
  // A PLC slice name whose login base starts with a digit is one useradd can make.
  assert.equal((await adapter.createAccount('3dlab_render', 'sliver')).name, '3dlab_render');
  await adapter.setKeys('pl_alpha', ['ssh-ed25519 AAAAgood']);
  await assert.rejects(
    adapter.setKeys('pl_alpha', ['ssh-ed25519 AAAA', 'ssh-rsa AAAA\ncommand="sh" ssh-rsa BBBB']),
    (e: unknown) => e instanceof InvalidError && /invalid ssh key 2 for "pl_alpha"/.test(e.message),
  );
  assert.equal(readFileSync(join(root, 'home/pl_alpha/.ssh/authorized_keys'), 'utf8'), 'ssh-ed25519 AAAAgood\n', 'the old keys stay');
});

test('authorized_keys is owned by the account, mode 0600, and planted symlinks are not followed', T, async (t) => {
  const { adapter, root, dataDir } = linuxNode();
  t.after(() => adapter.close());
  const { uid } = await adapter.createAccount('pl_alpha', 'sliver');
  const home = join(root, 'home/pl_alpha');
  await adapter.setKeys('pl_alpha', ['ssh-ed25519 AAAAone a@x', '  ssh-rsa AAAAtwo b@y  ']);
  const keysFile = join(home, '.ssh/authorized_keys');
  assert.equal(readFileSync(keysFile, 'utf8'), 'ssh-ed25519 AAAAone a@x\nssh-rsa AAAAtwo b@y\n');
  const keysStat = lstatSync(keysFile);
  const sshStat = lstatSync(join(home, '.ssh'));
  assert.deepEqual([keysStat.uid, keysStat.mode & 0o777, keysStat.isFile()], [uid, 0o600, true]);
  assert.deepEqual([sshStat.uid, sshStat.mode & 0o777, sshStat.isDirectory()], [uid, 0o700, true]);

  // The account replaces authorized_keys with a symlink to a root-owned file.
  const victim = join(dataDir, 'victim');
  writeFileSync(victim, 'root secret\n', { mode: 0o600 });
  rmSync(keysFile);
  symlinkSync(victim, keysFile);
  await adapter.setKeys('pl_alpha', ['ssh-ed25519 AAAAthree']);
  assert.equal(readFileSync(victim, 'utf8'), 'root secret\n', 'the symlink target is untouched');
  assert.equal(lstatSync(keysFile).isSymbolicLink(), false);
  assert.equal(lstatSync(victim).uid, 0, 'the target was not chowned');

  // The account replaces .ssh itself with a symlink to a root-owned directory.
  const victimDir = join(dataDir, 'victim-dir');
  mkdirSync(victimDir, { mode: 0o700 });
  rmSync(join(home, '.ssh'), { recursive: true });
  symlinkSync(victimDir, join(home, '.ssh'));
  await adapter.setKeys('pl_alpha', ['ssh-ed25519 AAAAfour']);
  assert.deepEqual(readdirSync(victimDir), [], 'nothing was written through the planted .ssh');
  assert.equal(lstatSync(victimDir).uid, 0);
  assert.equal(lstatSync(join(home, '.ssh')).isDirectory(), true, '.ssh is a real directory again');
  assert.equal(readFileSync(keysFile, 'utf8'), 'ssh-ed25519 AAAAfour\n');
});

test('the init script is installed root-owned 0755 and started as the account in its cgroup; stop kills every process', T, async (t) => {
  const { adapter, root, cgroupParent } = linuxNode();
  t.after(() => adapter.close());
  const { uid } = await adapter.createAccount('pl_alpha', 'sliver');
  const home = join(root, 'home/pl_alpha');
  // The script leaves a daemon in its own session and then stays in the foreground; uid is written last.
  await adapter.setInitscript('pl_alpha', '#!/bin/sh\nsetsid sleep 300 &\necho "$1" > "$HOME/arg"\nid -u > "$HOME/uid.tmp" && mv "$HOME/uid.tmp" "$HOME/uid"\nexec sleep 300\n');
  const script = statSync(join(root, 'etc/slv/rc.vinit.pl_alpha'));
  assert.deepEqual([script.uid, script.mode & 0o777], [0, 0o755]);

  await adapter.start('pl_alpha');
  assert.equal((await waitForFile(join(home, 'uid'))).trim(), String(uid), 'the script runs as the account');
  assert.equal(readFileSync(join(home, 'arg'), 'utf8').trim(), 'start');
  assert.equal(await adapter.isRunning('pl_alpha'), true);
  const cgroupPids = readFileSync(join(cgroupParent, 'pl_alpha', 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number);
  assert.ok(cgroupPids.length >= 1, 'its processes are in the sliver cgroup');
  await waitUntil(() => pidsOf(uid).length >= 2);
  assert.ok(pidsOf(uid).length >= 2, 'the script and its daemon run');

  await adapter.start('pl_alpha'); // already running: no second copy
  assert.ok(pidsOf(uid).length <= 2);
  await adapter.stop('pl_alpha');
  assert.deepEqual(pidsOf(uid), [], 'no process of the account is left, the detached daemon included');
  assert.equal(readFileSync(join(cgroupParent, 'pl_alpha', 'cgroup.procs'), 'utf8'), '');
  assert.equal(await adapter.isRunning('pl_alpha'), false);

  await adapter.setInitscript('pl_alpha', '');
  assert.equal(existsSync(join(root, 'etc/slv/rc.vinit.pl_alpha')), false);
});

test('the init script outcome: a command not found exits 127 with its message in the tail; the log reads in chunks from an offset', T, async (t) => {
  const { adapter } = linuxNode();
  t.after(() => adapter.close());
  await adapter.createAccount('pl_alpha', 'sliver');
  assert.equal(await adapter.initOutcome('pl_alpha'), undefined, 'no start, no outcome');
  await adapter.setInitscript('pl_alpha', '#!/bin/sh\necho starting proxy\nexec /usr/local/codeen/bin/proxy\n');
  const before = Date.now();
  await adapter.start('pl_alpha');
  await waitUntil(async () => (await adapter.initOutcome('pl_alpha'))?.exitCode !== undefined);
  const failed = await adapter.initOutcome('pl_alpha');
  assert.equal(failed?.exitCode, 127);
  assert.ok(failed && failed.startedAt >= before - 1000 && (failed.finishedAt ?? 0) >= failed.startedAt, 'start and finish times in order');
  assert.match(failed?.tail ?? '', /^starting proxy\n.*\/usr\/local\/codeen\/bin\/proxy: not found$/);
  const whole = (await adapter.readInitLog('pl_alpha', 0))!;
  assert.match(whole.text, /^starting proxy\n.*not found\n$/);
  const rest = (await adapter.readInitLog('pl_alpha', 'starting proxy\n'.length))!;
  assert.equal(rest.text, whole.text.slice('starting proxy\n'.length));
  assert.equal(rest.nextOffset, whole.nextOffset);

  // A script whose interpreter is missing cannot even be executed: a failure too.
  await adapter.stop('pl_alpha');
  await adapter.setInitscript('pl_alpha', '#!/nonexistent/interpreter\n');
  await adapter.start('pl_alpha');
  await waitUntil(async () => (await adapter.initOutcome('pl_alpha'))?.exitCode !== undefined);
  const unrunnable = await adapter.initOutcome('pl_alpha');
  assert.notEqual(unrunnable?.exitCode, 0);
  assert.ok((unrunnable?.startedAt ?? 0) >= (failed?.startedAt ?? 0), 'the new run replaced the old one');
  assert.doesNotMatch(unrunnable?.tail ?? '', /starting proxy/);
});

test(
  'a real cgroup under the test parent gets cpu.shares and CFS quota from the rspec (cgroup v1)',
  { ...T, ...(!SKIP_TEST_ROOTS && cgroupVersionAt(defaultCgroupParent()) !== 1 ? { skip: 'the cpu controller is not on cgroup v1 here' } : {}) },
  async (t) => {
    const bandwidth = new RecordingBandwidthLimiter();
    const node = makeTestRoot('linux');
    const adapter = createLinuxAdapter({ dataDir: node.dataDir, root: node.root, cgroupParent: node.cgroupParent, uidRange: node.uidRange, bandwidth });
    t.after(() => adapter.close());
    const { uid } = await adapter.createAccount('pl_alpha', 'sliver');
    const cgroup = join(node.cgroupParent, 'pl_alpha');
    const files = () => ['cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us'].map((file) => readFileSync(join(cgroup, file), 'utf8').trim());

    const shared = await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_share: 64, net_max: 2_000_000 });
    assert.deepEqual(files(), ['2048', '100000', '-1'], 'share 64 = twice the default weight, no quota');
    assert.deepEqual(bandwidth.classes.get(uid), { net_min: 8, net_max: 2_000_000, net2_min: 8, net2_max: 1_000_000_000, net_share: 1 });
    assert.deepEqual(shared.applied, ['enabled', 'cpu_min', 'cpu_share', 'net_min', 'net_max', 'net2_min', 'net2_max', 'net_share']);

    await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_min: 250 });
    assert.deepEqual(files(), ['8000', '100000', '25000'], 'a 25 % guarantee: 25 ms per 100 ms period');
    await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_min: 49, cpu_share: 32 });
    assert.deepEqual(files(), ['1024', '100000', '-1'], 'below 50 the share applies');

    await adapter.setInitscript('pl_alpha', '#!/bin/sh\nexec sleep 300\n');
    await adapter.start('pl_alpha');
    await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, enabled: 0 });
    assert.deepEqual(files(), ['2', '100000', '1000'], 'disabled: the least CPU the kernel allows');
    assert.equal(await adapter.isRunning('pl_alpha'), false, 'disabled: stopped');
    assert.deepEqual(pidsOf(uid), []);
    const expire = () =>
      readFileSync(join(node.root, 'etc/shadow'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('pl_alpha:'))
        ?.split(':')[7];
    assert.equal(expire(), '1', 'disabled: the account expired, so sshd refuses it');
    await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC });
    assert.equal(expire(), '', 'enabled again: login allowed');

    await adapter.destroyAccount('pl_alpha');
    assert.equal(bandwidth.classes.has(uid), false, 'destroy removes the bandwidth classes');
  },
);

test('a sliver forking short-lived children is destroyed 50 times in a row, its cgroup removed each time', { ...T, timeout: 180_000 }, async (t) => {
  const { adapter, root, cgroupParent } = linuxNode();
  t.after(() => adapter.close());
  // Children come and go all the time; the file shows a whole batch was forked and reaped.
  const churn = '#!/bin/sh\nwhile :; do for i in 1 2 3 4; do sleep 0.05 & done; wait; : > "$HOME/forked"; done\n';
  for (let round = 1; round <= 50; round++) {
    const { uid } = await adapter.createAccount('pl_churn', 'sliver');
    await adapter.setInitscript('pl_churn', churn);
    await adapter.start('pl_churn');
    await waitForFile(join(root, 'home/pl_churn/forked'));
    assert.equal(await adapter.isRunning('pl_churn'), true, `round ${round}: the sliver runs`);
    await adapter.destroyAccount('pl_churn');
    assert.deepEqual(pidsOf(uid), [], `round ${round}: no process left`);
    assert.equal(existsSync(join(cgroupParent, 'pl_churn')), false, `round ${round}: the cgroup is gone`);
  }
});

test(
  'a cgroup that stays busy is an error naming the pids left, after a bounded wait',
  { ...T, ...(!SKIP_TEST_ROOTS && cgroupVersionAt(defaultCgroupParent()) !== 1 ? { skip: 'the cpu controller is not on cgroup v1 here' } : {}) },
  async (t) => {
    const { cgroupParent } = makeTestRoot('linux');
    const cgroups = new CpuCgroups(cgroupParent);
    // A root process the adapter never kills, held in the cgroup; the test root's cleanup removes the cgroup once it is gone.
    let holder: ChildProcess | undefined;
    t.after(() => holder?.kill('SIGKILL'));
    holder = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
    writeFileSync(cgroups.procsFile('pl_busy'), String(holder.pid));
    await assert.rejects(cgroups.remove('pl_busy'), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.equal(error.message, `cgroup ${join(cgroupParent, 'pl_busy')} is still busy 5 s after its processes were killed; pids left: ${holder!.pid}`);
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'EBUSY');
      return true;
    });
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    await cgroups.remove('pl_busy');
    assert.equal(existsSync(join(cgroupParent, 'pl_busy')), false);
  },
);

test('disk quota and network limits the node cannot enforce are reported unsupported with a reason', T, async (t) => {
  const { adapter } = linuxNode();
  t.after(() => adapter.close());
  await adapter.createAccount('pl_alpha', 'sliver');
  const report = await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC });
  const reasons = Object.fromEntries(report.unsupported.map((u) => [u.resource, u.reason]));
  assert.deepEqual(
    Object.keys(reasons),
    ['net_min', 'net_max', 'net2_min', 'net2_max', 'net_share', 'disk_max'].filter((key) => key !== 'disk_max' || !report.applied.includes('disk_max')),
  );
  assert.match(reasons.net_max ?? '', /no bandwidth limiter is configured/);
  if (!existsSync('/usr/sbin/setquota')) assert.match(reasons.disk_max ?? '', /\/usr\/sbin\/setquota is not installed \(Debian package "quota"\)/);
  else if (reasons.disk_max) assert.match(reasons.disk_max, /^disk quota not enforced on \/\S*: /);
});

test('cgroup file values for v1 and v2', { timeout: 5_000 }, () => {
  const rspec = (over: Partial<typeof DEFAULT_RSPEC>) => ({ ...DEFAULT_RSPEC, ...over });
  assert.deepEqual(cpuFiles(1, rspec({})), [
    ['cpu.shares', '1024'],
    ['cpu.cfs_period_us', '100000'],
    ['cpu.cfs_quota_us', '-1'],
  ]);
  assert.deepEqual(cpuFiles(2, rspec({})), [
    ['cpu.weight', '100'],
    ['cpu.max', 'max 100000'],
  ]);
  assert.deepEqual(cpuFiles(2, rspec({ cpu_min: 50 })), [
    ['cpu.weight', '156'],
    ['cpu.max', '5000 100000'],
  ]);
  assert.deepEqual(
    cpuFiles(2, rspec({ cpu_min: 1500 })),
    [
      ['cpu.weight', '4688'],
      ['cpu.max', '150000 100000'],
    ],
    'more than one CPU',
  );
  assert.deepEqual(cpuFiles(2, rspec({ enabled: 0, cpu_min: 500 })), [
    ['cpu.weight', '1'],
    ['cpu.max', '1000 100000'],
  ]);
  assert.deepEqual(
    cpuFiles(1, rspec({ cpu_share: 0 })),
    [
      ['cpu.shares', '2'],
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_quota_us', '-1'],
    ],
    'clamped to the kernel minimum',
  );
  assert.deepEqual(cpuFiles(2, rspec({ cpu_share: 1_000_000 }))[0], ['cpu.weight', '10000'], 'clamped to the kernel maximum');
  assert.deepEqual(cpuFiles(2, rspec({ cpu_min: 2 ** 50 }))[1], ['cpu.max', `${2 ** 44 - 1} 100000`], "an effective guarantee loans pushed past any range: the kernel's largest quota");
});

test('createNodeAdapter("linux") opens the linux adapter on the given root', T, async (t) => {
  const node = makeTestRoot('linux');
  const adapter = await createNodeAdapter('linux', { dataDir: node.dataDir, root: node.root, cgroupParent: node.cgroupParent });
  t.after(() => adapter.close());
  assert.equal(adapter.kind, 'linux');
  assert.equal(await adapter.accountNameByUid(0), 'root');
  assert.deepEqual(await adapter.listAccounts(), []);
});
