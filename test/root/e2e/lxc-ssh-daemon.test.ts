// End to end, the way a sliver's user meets the lxc adapter: slvd --adapter lxc on the HOST root
// (sshd resolves users through the host's passwd) makes a PLC sliver's account with the setuid
// lxc-vsh login shell and its container; a real sshd on a loopback port takes
// `ssh -i key sliver@127.0.0.1 hostname`, and the command runs inside the container, as its root.
// A newer PLC answer without the sliver (SIGHUP) destroys account and container.
//
// This test changes the host, so it is confined and undone: uids 62100-62199 (no other test's
// block), its own lxc path and cgroup parent, an lxc-vsh built for that lxc path, and cleanups
// registered first remove containers, mounts, subid lines, cgroups, the account, the installed
// shells and /etc/shells lines, before checking the host's account files are byte-identical.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LXC_SHELLS } from '../../../adapters/node/lxc/index.js';
import { defaultCgroupParent } from '../../../adapters/node/posix/cgroup.js';
import { guardHostAccounts, hostAccount, hostFileHashes, idsInRange } from '../../support/host-accounts.js';
import { DEFAULT_IMAGE } from '../../../adapters/node/lxc/index.js';
import { buildBusyboxImage, lxcCleanup, lxcSlvdConfig, SKIP_LXC } from '../../support/lxc.js';
import { spawnSlvd, waitForStatus } from '../../support/slvd-process.js';
import { makeSshKeys, SSHD, startLoopbackSshd } from '../../support/sshd.js';
import { waitUntil } from '../../support/test-roots.js';
import { worldReadableTempDir } from '../../support/staging.js';

const UID_RANGE = { min: 62_100, max: 62_199 };
const skip = SKIP_LXC || (!existsSync(SSHD) ? `needs OpenSSH's sshd (${SSHD}): apt-get install openssh-server` : false);
const sliver = `slvx_${randomBytes(3).toString('hex')}`;
const INSTALLED = [...Object.values(LXC_SHELLS), '/etc/slv', '/run/slv'];
const cgroupParent = join(defaultCgroupParent(), '..', `slv-test-e2e-lxc-ssh-${sliver}`);

const guard = skip ? undefined : guardHostAccounts([sliver], INSTALLED);
const containers = skip ? undefined : lxcCleanup();
const dir = skip ? undefined : worldReadableTempDir('slv-e2e-lxc-ssh-');
const lxcPath = dir ? join(dir, 'lxc') : '/nonexistent';
containers?.track(lxcPath, UID_RANGE, cgroupParent);
let sshd: ChildProcess | undefined;

after(() => {
  if (!guard || !containers || !dir) return;
  sshd?.kill('SIGTERM');
  containers.run();
  const problems = guard.restore();
  execFileSync('rm', ['-rf', dir]);
  assert.deepEqual(problems, [], 'the cleanup ran without errors');
  assert.deepEqual(hostFileHashes(), guard.hashesBefore, 'the host account files, /etc/shells and subid files are as before');
  for (const path of INSTALLED) assert.equal(existsSync(path), guard.existedBefore(path), `${path} is as before`);
});

test("ssh sliver@node lands in the sliver's container through the setuid lxc-vsh: hostname is the sliver's, uid 0 inside", { skip, timeout: 120_000 }, async (t) => {
  assert.ok(dir);
  for (const file of ['/etc/passwd', '/etc/group']) assert.deepEqual(idsInRange(file, UID_RANGE), [], `${file} has no ids in ${UID_RANGE.min}-${UID_RANGE.max}, the block this test uses`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o755 });
  mkdirSync(lxcPath, { mode: 0o755 });
  const imageDir = join(dir, 'images');
  buildBusyboxImage(join(imageDir, DEFAULT_IMAGE));
  // lxc-vsh has its lxc path compiled in: a build for this test's.
  const vsh = join(dir, 'lxc-vsh');
  execFileSync('make', ['-s', '-B', '-C', fileURLToPath(new URL('../../../native', import.meta.url)), `VSH_OUT=${vsh}`, `LXC_PATH=${lxcPath}`, vsh], { stdio: 'pipe' });
  const clientKey = makeSshKeys(dir);

  const answer = (file: string, timestamp: number, slivers: unknown[]) => writeFileSync(join(dir, file), JSON.stringify({ timestamp, slivers }));
  answer('one.json', 100, [{ name: sliver, instantiation: 'plc-instantiated', keys: [{ key_type: 'ssh', key: clientKey }], attributes: [] }]);
  answer('two.json', 200, []);
  const configFile = join(dir, 'slvd.yaml');
  const node = { root: '/', cgroupParent, uidRange: UID_RANGE, lxcPath, imageDir };
  const config = (plcFile: string) => lxcSlvdConfig(node, join(dir, plcFile), [`lxc: {lxcPath: ${lxcPath}, imageDir: ${imageDir}, sliverShell: ${vsh}}`]);
  writeFileSync(configFile, config('one.json'));

  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--config', configFile]);
  await waitForStatus(dataDir, daemon, (s) => s.ready && s.slivers.ready === 1, 'the sliver is Ready');
  assert.equal(hostAccount(sliver)?.[6], LXC_SHELLS.sliver, 'its login shell is lxc-vsh');

  const login = await startLoopbackSshd(dir, [sliver]);
  sshd = login.sshd;
  // The host's PAM session may greet before the command runs: its output is the last lines.
  const inside = await login.ssh(sliver, ['hostname; id -u; cat /proc/1/comm']);
  assert.equal(inside.code, 0, inside.stderr);
  assert.deepEqual(inside.stdout.trim().split('\n').slice(-3), [sliver, '0', 'init'], "hostname, uid and pid 1 are the container's");
  const written = await login.ssh(sliver, ['echo from-ssh > /root/mark']);
  assert.equal(written.code, 0, written.stderr);
  assert.equal(existsSync(join(lxcPath, sliver, 'upper/root/mark')), true, "the write landed in the sliver's upper layer");

  // PLC drops the sliver: account and container go, and a login is refused.
  writeFileSync(configFile, config('two.json'));
  daemon.child.kill('SIGHUP');
  await waitUntil(() => !hostAccount(sliver) && !existsSync(join(lxcPath, sliver)));
  assert.equal(hostAccount(sliver), undefined, 'the account is removed');
  assert.equal(existsSync(join(lxcPath, sliver)), false, 'the container and its upper layer are removed');
  assert.notEqual((await login.ssh(sliver, ['hostname'])).code, 0, 'no login any more');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
});
