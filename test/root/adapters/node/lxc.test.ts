// The lxc node adapter on real LXC, as root: the shared contract, then what it makes on the host:
// unprivileged containers with their own id ranges over one shared busybox image (built here),
// copy-on-write layers, keys and init script inside, cgroup limits, and that destroy leaves
// nothing (containers, mounts, subid lines, cgroups).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeAdapter } from '../../../../adapters/node/index.js';
import { containerIdRange, subidLine, withSubidLine } from '../../../../adapters/node/lxc/ids.js';
import { LXC_SHELLS } from '../../../../adapters/node/lxc/index.js';
import { cgroupVersionAt, cpuFiles } from '../../../../adapters/node/posix/cgroup.js';
import { isMountPoint } from '../../../../adapters/node/posix/mounts.js';
import { InvalidError, MissingImageError } from '../../../../resources/errors.js';
import { DEFAULT_RSPEC } from '../../../../resources/rspec.js';
import { parseCpuList } from '../../../../resources/cpu-cores.js';
import { runNodeAdapterContract } from '../../../support/node-adapter-contract.js';
import { buildBusyboxImage, lxcCleanup, makeImageDir, makeLxcNode, SKIP_LXC } from '../../../support/lxc.js';
import { removeTestRoots, waitUntil } from '../../../support/test-roots.js';

const skip = SKIP_LXC;
const T = { timeout: 60_000, ...(skip ? { skip } : {}) };

const cleanup = skip ? undefined : lxcCleanup();
after(async () => {
  await cleanup?.run();
  await removeTestRoots();
});
const imageDir = cleanup ? makeImageDir('lxc-images', cleanup) : '/nonexistent';

function lxcNode(options = {}) {
  if (!cleanup) throw new Error('lxc nodes are made only when the tests run');
  return makeLxcNode('lxc', imageDir, cleanup, options);
}

function attach(lxcPath: string, name: string, script: string): string {
  return execFileSync('/usr/bin/lxc-attach', ['-P', lxcPath, '-n', name, '--clear-env', '--', '/bin/sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

runNodeAdapterContract('lxc (real containers over a busybox image, test root)', async () => lxcNode().adapter, { ...(skip ? { skip } : {}), timeoutMs: 60_000 });

test('id ranges follow the xid, never overlap, and stay below the largest uid', { timeout: 5_000 }, () => {
  assert.deepEqual(containerIdRange(1000, 0), { first: 65_536_000, count: 65_536 });
  assert.deepEqual(containerIdRange(1001, 0), { first: 65_601_536, count: 65_536 }, 'the next xid starts where the previous range ends');
  assert.deepEqual(containerIdRange(3, 100), { first: 196_708, count: 65_536 });
  assert.throws(
    () => containerIdRange(65_536, 0),
    (e: unknown) => e instanceof InvalidError && /xid 65536 has no container id range: with idBase 0, xids from 1 to 65534/.test(e.message),
  );
  assert.throws(() => containerIdRange(0, 0), InvalidError);
  assert.equal(withSubidLine('user:100000:65536\n', 'root:200000:65536', true), 'user:100000:65536\nroot:200000:65536\n');
  assert.equal(withSubidLine('user:100000:65536\nroot:200000:65536\n', 'root:200000:65536', true), 'user:100000:65536\nroot:200000:65536\n', 'present already: unchanged');
  assert.equal(withSubidLine('root:200000:65536\nuser:100000:65536', 'root:200000:65536', false), 'user:100000:65536\n');
  assert.equal(subidLine({ first: 200_000, count: 65_536 }), 'root:200000:65536');
});

test('a sliver is an unprivileged container: root inside is its id range outside, its own processes, hostname, the host network', T, async (t) => {
  const { adapter, lxcPath, root } = lxcNode();
  t.after(() => adapter.close());
  const { uid } = await adapter.createAccount('pl_alpha', 'sliver');
  const range = adapter.idRange('pl_alpha');
  assert.equal(range.first, uid * 65_536, 'the range follows the xid');
  for (const file of ['/etc/subuid', '/etc/subgid']) assert.ok(readFileSync(file, 'utf8').split('\n').includes(`root:${range.first}:65536`), `${file} grants root the range`);
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
  assert.match(passwd, new RegExp(`^pl_alpha:x:${uid}:\\d+::/home/pl_alpha:${LXC_SHELLS.sliver}$`, 'm'));
  assert.equal(statSync(join(root, LXC_SHELLS.sliver)).mode & 0o7777, 0o4755, 'the login helper is setuid root');
  assert.equal(statSync(join(lxcPath, 'pl_alpha')).mode & 0o777, 0o755);

  await adapter.setInitscript('pl_alpha', '#!/bin/sh\necho "$1 $(id -u)" > /tmp/ran\nexec sleep 300\n');
  await adapter.start('pl_alpha');
  assert.equal(await adapter.isRunning('pl_alpha'), true);
  assert.equal(attach(lxcPath, 'pl_alpha', 'id -u').trim(), '0', 'root inside');
  assert.equal(attach(lxcPath, 'pl_alpha', 'hostname').trim(), 'pl_alpha');
  await waitUntil(() => existsSync(join(lxcPath, 'pl_alpha/rootfs/tmp/ran')));
  assert.equal(readFileSync(join(lxcPath, 'pl_alpha/rootfs/tmp/ran'), 'utf8'), 'start 0\n', 'the init script ran with "start" as the container\'s root');
  const inside = attach(lxcPath, 'pl_alpha', 'ps -o pid,args').trim().split('\n').slice(1);
  assert.ok(
    inside.some((line) => /^\s*1 init/.test(line)),
    `pid 1 is the container's init:\n${inside.join('\n')}`,
  );
  assert.ok(inside.length <= 4, `only the container's own processes are visible:\n${inside.join('\n')}`);
  const hostUids = execFileSync('/usr/bin/ps', ['-eo', 'uid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /sleep 300/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  assert.ok(hostUids.includes(range.first), `the host sees the init script as uid ${range.first} (got ${hostUids.join(', ')})`);
  const hostLinks = execFileSync('/usr/sbin/ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  assert.equal(attach(lxcPath, 'pl_alpha', 'ip -o link').trim().split('\n').length, hostLinks, 'the host network: the same interfaces');

  assert.equal((await adapter.initOutcome('pl_alpha'))?.exitCode, undefined, 'the init script still runs');

  await adapter.stop('pl_alpha');
  assert.equal(await adapter.isRunning('pl_alpha'), false);
  assert.equal(hostUids.length > 0 && execFileSync('/usr/bin/ps', ['-eo', 'uid='], { encoding: 'utf8' }).split('\n').map(Number).includes(range.first), false, 'stop kills everything inside');

  // A failing init script: its exit status and output are recorded on the host.
  await adapter.setInitscript('pl_alpha', '#!/bin/sh\necho "cannot start $1"\nexit 3\n');
  await adapter.start('pl_alpha');
  await waitUntil(async () => (await adapter.initOutcome('pl_alpha'))?.exitCode !== undefined);
  const failed = await adapter.initOutcome('pl_alpha');
  assert.deepEqual([failed?.exitCode, failed?.tail], [3, 'cannot start start']);
  assert.equal((await adapter.readInitLog('pl_alpha', 0))?.text, 'cannot start start\n');
  await adapter.stop('pl_alpha');
});

test("one image, copy-on-write: a write inside lands in the sliver's upper layer only", T, async (t) => {
  const { adapter, lxcPath } = lxcNode();
  t.after(() => adapter.close());
  await adapter.createAccount('pl_one', 'sliver');
  await adapter.createAccount('pl_two', 'sliver');
  await adapter.start('pl_one');
  await adapter.start('pl_two');
  attach(lxcPath, 'pl_one', 'echo mine > /etc/motd && echo changed >> /etc/passwd');
  assert.equal(readFileSync(join(lxcPath, 'pl_one/upper/etc/motd'), 'utf8'), 'mine\n');
  assert.equal(statSync(join(lxcPath, 'pl_one/upper/etc/motd')).uid, adapter.idRange('pl_one').first, "written by the container's root");
  assert.equal(existsSync(join(imageDir, 'default/etc/motd')), false, 'the image is untouched');
  assert.equal(readFileSync(join(imageDir, 'default/etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
  assert.equal(
    attach(lxcPath, 'pl_two', 'cat /etc/motd 2>&1; cat /etc/passwd').trim(),
    "cat: can't open '/etc/motd': No such file or directory\nroot:x:0:0:root:/root:/bin/sh",
    'the other sliver sees the image',
  );
  assert.equal(statSync(join(imageDir, 'default/etc/passwd')).uid, 0, "the image stays root's on disk");
  assert.notEqual(adapter.idRange('pl_one').first, adapter.idRange('pl_two').first);
});

test('keys go to the host account and the container root, without following links the container planted', T, async (t) => {
  const { adapter, lxcPath, root, dataDir } = lxcNode();
  t.after(() => adapter.close());
  const { uid } = await adapter.createAccount('pl_alpha', 'sliver');
  const first = adapter.idRange('pl_alpha').first;
  await adapter.setKeys('pl_alpha', ['ssh-ed25519 AAAAone a@x']);
  assert.equal(readFileSync(join(root, 'home/pl_alpha/.ssh/authorized_keys'), 'utf8'), 'ssh-ed25519 AAAAone a@x\n');
  assert.equal(statSync(join(root, 'home/pl_alpha/.ssh/authorized_keys')).uid, uid);
  const inside = join(lxcPath, 'pl_alpha/rootfs/root/.ssh/authorized_keys');
  assert.equal(readFileSync(inside, 'utf8'), 'ssh-ed25519 AAAAone a@x\n');
  assert.deepEqual([statSync(inside).uid, statSync(inside).mode & 0o777], [first, 0o600]);

  // The container's root replaces /etc with a link to a host directory and authorized_keys with a link to a host file.
  const victim = join(dataDir, 'victim');
  writeFileSync(victim, 'host secret\n', { mode: 0o600 });
  rmSync(inside);
  symlinkSync(victim, inside);
  await adapter.setKeys('pl_alpha', ['ssh-ed25519 AAAAtwo']);
  assert.equal(readFileSync(victim, 'utf8'), 'host secret\n');
  assert.equal(lstatSync(inside).isSymbolicLink(), false);
  rmSync(join(lxcPath, 'pl_alpha/rootfs/etc'), { recursive: true, force: true });
  symlinkSync(dataDir, join(lxcPath, 'pl_alpha/rootfs/etc'));
  await adapter.setInitscript('pl_alpha', '#!/bin/sh\n');
  assert.equal(existsSync(join(dataDir, 'rc.vinit')), false, 'nothing written through the planted /etc');
  assert.equal(statSync(join(lxcPath, 'pl_alpha/rootfs/etc/rc.vinit')).uid, first);
});

test("limits: cpu.shares and CFS quota in the container's cgroup, memory held at its limit, disabled = stopped and locked", T, async (t) => {
  const { adapter, lxcPath, cgroupParent, root } = lxcNode({ memoryLimit: 32 * 1024 * 1024 });
  t.after(() => adapter.close());
  const version = cgroupVersionAt(cgroupParent);
  if (version !== 1) return t.skip('the cpu controller is not on cgroup v1 here');
  await adapter.createAccount('pl_alpha', 'sliver');
  const report = await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_share: 64 });
  assert.deepEqual(report.applied, ['enabled', 'cpu_min', 'cpu_share']);
  assert.match(report.unsupported.find((u) => u.resource === 'disk_max')?.reason ?? '', /disk_max not enforced: a container's files belong to 65,536 ids/);
  await adapter.start('pl_alpha');
  const cgroup = join(cgroupParent, 'pl_alpha');
  const cpu = () => ['cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us'].map((file) => readFileSync(join(cgroup, file), 'utf8').trim());
  assert.deepEqual(
    cpu(),
    cpuFiles(1, { ...DEFAULT_RSPEC, cpu_share: 64 }).map(([, value]) => value),
    'applied at start from the config',
  );
  assert.deepEqual(cpu(), ['2048', '100000', '-1']);
  await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_min: 250 });
  assert.deepEqual(cpu(), ['8000', '100000', '25000'], 'changed while running');

  const memory = join('/sys/fs/cgroup/memory', cgroupParent.split('/').pop()!, 'pl_alpha');
  assert.equal(readFileSync(join(memory, 'memory.limit_in_bytes'), 'utf8').trim(), String(32 * 1024 * 1024));
  const hog = attach(lxcPath, 'pl_alpha', 'head -c 200000000 /dev/zero | tail -c 150000000 | wc -c; true');
  // The OOM killer picks tail (wc then prints 0) or, rarely, the pipeline's shell (nothing printed): never 150 MB held.
  assert.ok(['0', ''].includes(hog.trim()), `the hog was killed before it could hold 150 MB (wc printed ${JSON.stringify(hog.trim())})`);
  assert.ok(Number(readFileSync(join(memory, 'memory.max_usage_in_bytes'), 'utf8')) <= 32 * 1024 * 1024, 'usage never passed the limit');
  assert.match(readFileSync(join(memory, 'memory.oom_control'), 'utf8'), /oom_kill [1-9]/);

  await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, enabled: 0 });
  assert.equal(await adapter.isRunning('pl_alpha'), false, 'disabled: stopped');
  const expire = readFileSync(join(root, 'etc/shadow'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('pl_alpha:'))
    ?.split(':')[7];
  assert.equal(expire, '1', 'disabled: login locked');
});

test("cpu pinning: the container's cpuset follows pin, at start from the config and live while running", T, async (t) => {
  const { adapter, cgroupParent } = lxcNode();
  t.after(() => adapter.close());
  const pinning = adapter.cpuPinning;
  if (!pinning) return t.skip('no cgroup v1 cpuset hierarchy here');
  const all = await pinning.available();
  const last = all[all.length - 1]!;
  await adapter.createAccount('pl_alpha', 'sliver');
  await pinning.pin('pl_alpha', [last]);
  await adapter.start('pl_alpha');
  const cpuset = join('/sys/fs/cgroup/cpuset', cgroupParent.split('/').pop()!, 'pl_alpha', 'cpuset.cpus');
  assert.equal(readFileSync(cpuset, 'utf8').trim(), String(last), 'applied at start from the config');
  await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_share: 64 });
  await pinning.pin('pl_alpha', all);
  assert.deepEqual(parseCpuList(readFileSync(cpuset, 'utf8')), all, 'changed while running');
  await adapter.stop('pl_alpha');
  await adapter.start('pl_alpha');
  assert.deepEqual(parseCpuList(readFileSync(cpuset, 'utf8')), all, 'kept in the config across a limits rewrite and a restart');
});

test('destroy removes the container, its layers, mounts, subid lines and cgroups; a missing image is a clear error', T, async (t) => {
  const { adapter, lxcPath, cgroupParent } = lxcNode();
  t.after(() => adapter.close());
  await adapter.createAccount('pl_alpha', 'sliver');
  const range = adapter.idRange('pl_alpha');
  await adapter.start('pl_alpha');
  assert.equal(isMountPoint(join(lxcPath, 'pl_alpha/rootfs')), true);
  await adapter.destroyAccount('pl_alpha');
  assert.equal(existsSync(join(lxcPath, 'pl_alpha')), false, 'container dir and upper layer gone');
  assert.equal(isMountPoint(join(lxcPath, 'pl_alpha/rootfs')) || isMountPoint(join(lxcPath, 'pl_alpha/image')), false);
  for (const file of ['/etc/subuid', '/etc/subgid']) assert.equal(readFileSync(file, 'utf8').includes(`root:${range.first}:`), false, `${file} line removed`);
  assert.equal(existsSync(join(cgroupParent, 'pl_alpha')), false);
  assert.deepEqual(execFileSync('/usr/bin/lxc-ls', ['-P', lxcPath], { encoding: 'utf8' }).trim(), '');

  const bare = lxcNode({ imageDir: join(lxcPath, 'no-images') });
  t.after(() => bare.adapter.close());
  await assert.rejects(
    bare.adapter.createAccount('pl_beta', 'sliver'),
    (e: unknown) => e instanceof MissingImageError && e.vref === 'default' && /LXC image "default" is missing: .*no-images\/default has no root filesystem/.test(e.message),
  );
  assert.deepEqual(await bare.adapter.listAccounts(), [], 'nothing half-made');
});

test("a sliver's vref picks its image, kept across restarts; a missing or unsafe vref creates nothing", T, async (t) => {
  const images = mkdtempSync('/tmp/slv-lxc-vref-');
  t.after(() => rmSync(images, { recursive: true, force: true }));
  for (const vref of ['default', 'lxc-f37-x86_64']) {
    buildBusyboxImage(join(images, vref));
    writeFileSync(join(images, vref, 'etc/image-name'), `${vref}\n`);
  }
  const { adapter, lxcPath } = lxcNode({ imageDir: images });
  t.after(() => adapter.close());
  await adapter.createAccount('pl_f37', 'sliver', undefined, 'lxc-f37-x86_64');
  await adapter.createAccount('pl_plain', 'sliver');
  await adapter.start('pl_f37');
  await adapter.start('pl_plain');
  assert.equal(attach(lxcPath, 'pl_f37', 'cat /etc/image-name'), 'lxc-f37-x86_64\n');
  assert.equal(attach(lxcPath, 'pl_plain', 'cat /etc/image-name'), 'default\n');
  assert.equal(adapter.imageOf('pl_f37'), 'lxc-f37-x86_64');

  // After a reboot nothing is mounted: the container comes back over the image it was made from.
  await adapter.stop('pl_f37');
  execFileSync('/usr/bin/umount', [join(lxcPath, 'pl_f37/rootfs')]);
  execFileSync('/usr/bin/umount', [join(lxcPath, 'pl_f37/image')]);
  await adapter.start('pl_f37');
  assert.equal(attach(lxcPath, 'pl_f37', 'cat /etc/image-name'), 'lxc-f37-x86_64\n');

  for (const [vref, pattern] of [
    ['lxc-f99', /LXC image "lxc-f99" is missing: .*\/lxc-f99 has no root filesystem/],
    ['../default', /LXC image name "\.\.\/default" is not a directory name/],
  ] as const) {
    await assert.rejects(adapter.createAccount('pl_none', 'sliver', undefined, vref), (e: unknown) => e instanceof MissingImageError && e.vref === vref && pattern.test(e.message));
  }
  assert.equal(await adapter.getAccount('pl_none'), undefined, 'nothing half-made');
  assert.equal(existsSync(join(lxcPath, 'pl_none')), false);
});

test('createNodeAdapter("lxc") opens the lxc adapter', T, async (t) => {
  const node = lxcNode();
  const adapter = await createNodeAdapter('lxc', { dataDir: node.dataDir, root: node.root, cgroupParent: node.cgroupParent, lxc: { lxcPath: node.lxcPath, imageDir } });
  t.after(() => adapter.close());
  assert.equal(adapter.kind, 'lxc');
  assert.deepEqual(await adapter.listAccounts(), []);
});
