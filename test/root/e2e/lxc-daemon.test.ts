// End to end on real LXC: slvd --adapter lxc (accounts in a temporary --root prefix, containers in
// a temporary lxc path, one busybox image built here) fed a PLC answer with three slivers. Each
// becomes a running unprivileged container over the shared image; cpu.shares follows the
// effective rspec and a Loan; a newer answer without one sliver destroys its container and upper
// layer. Everything the run makes on the host is removed by the cleanup registered first.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ApiClient } from '../../../adapters/api/client/client.js';
import { containerIdRange } from '../../../adapters/node/lxc/ids.js';
import { cgroupVersionAt, cpuFiles } from '../../../adapters/node/posix/cgroup.js';
import { isMountPoint, mountPoints } from '../../../adapters/node/posix/mounts.js';
import { API_VERSION, type Loan } from '../../../schemas/types.js';
import { lxcCleanup, lxcSlvdConfig, makeLxcDaemonRoot, SKIP_LXC } from '../../support/lxc.js';
import { removeTestRoots, waitUntil } from '../../support/test-roots.js';
import { spawnSlvd, waitForStatus } from '../../support/slvd-process.js';

const skip = SKIP_LXC;
const cleanup = skip ? undefined : lxcCleanup();
after(async () => {
  await cleanup?.run();
  await removeTestRoots();
});

const NAMES = ['lxc_alpha', 'lxc_beta', 'lxc_gamma'];
const record = (name: string, cpuShare: number) => ({ name, instantiation: 'plc-instantiated', keys: [], attributes: [{ name: 'cpu_share', value: String(cpuShare) }] });

function attach(lxcPath: string, name: string, script: string): string {
  return execFileSync('/usr/bin/lxc-attach', ['-P', lxcPath, '-n', name, '--clear-env', '--', '/bin/sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('slvd --adapter lxc: three PLC slivers are three containers over one image; cpu.shares follows the rspec and a Loan; a dropped sliver is destroyed', { skip, timeout: 120_000 }, async (t) => {
  if (!cleanup) throw new Error('the cleanup is made whenever the test runs');
  const node = makeLxcDaemonRoot('e2e-lxc', cleanup);
  const { lxcPath, imageDir } = node;
  const answer = (file: string, timestamp: number, slivers: unknown[]) => writeFileSync(join(node.dataDir, file), JSON.stringify({ timestamp, slivers }));
  answer('one.json', 100, [record('lxc_alpha', 64), record('lxc_beta', 32), record('lxc_gamma', 16)]);
  answer('two.json', 200, [record('lxc_alpha', 64), record('lxc_beta', 32)]);
  const configFile = join(node.dataDir, 'slvd.yaml');
  const config = (plcFile: string) => lxcSlvdConfig(node, plcFile, [`lxc: {lxcPath: ${lxcPath}, imageDir: ${imageDir}}`]);
  writeFileSync(configFile, config('one.json'));

  const daemon = spawnSlvd(t, ['--data-dir', node.dataDir, '--config', configFile]);
  const status = await waitForStatus(node.dataDir, daemon, (s) => s.ready && s.slivers.ready === 3, 'the three slivers are Ready');
  assert.equal(status.adapter, 'lxc');
  const running = () => execFileSync('/usr/bin/lxc-ls', ['-P', lxcPath, '--running'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean).sort();
  await waitUntil(() => running().length === 3);
  assert.deepEqual(running(), NAMES, 'three running containers');

  // One image: every container's lower layer is an idmapped view of the same directory.
  const lowers = mountPoints().filter((m) => m.startsWith(`${lxcPath}/`) && m.endsWith('/image'));
  assert.equal(lowers.length, 3);
  const uidOf = (name: string) =>
    Number(
      readFileSync(join(node.root, 'etc/passwd'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${name}:`))
        ?.split(':')[2],
    );
  for (const name of NAMES) {
    assert.equal(attach(lxcPath, name, 'id -u').trim(), '0', `${name}: root inside`);
    const processes = attach(lxcPath, name, 'ps -o args').trim().split('\n').slice(1);
    // init and the attached shell running ps (busybox shows it as `{ps} /bin/sh -c ps -o args`); no host process.
    assert.equal(processes[0], 'init', `${name}'s pid 1 is its init`);
    assert.ok(processes.length <= 3 && processes.slice(1).every((p) => p.includes('ps -o args')), `${name} sees only its own processes: ${processes.join(' | ')}`);
    const first = containerIdRange(uidOf(name), 0).first;
    // From /proc: ps prints uids above 2^31 as negative numbers.
    const initPid = readFileSync(join(node.cgroupParent, name, 'cgroup.procs'), 'utf8').split('\n')[0]!;
    const hostSees = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${initPid}/status`, 'utf8'))?.[1];
    assert.equal(Number(hostSees), first, `${name}: the host sees its init as uid ${first}`);
  }
  attach(lxcPath, 'lxc_alpha', 'echo alpha > /etc/written');
  assert.equal(existsSync(join(imageDir, 'default/etc/written')), false, 'the write is not in the image');
  assert.equal(attach(lxcPath, 'lxc_beta', 'test -e /etc/written && echo yes || echo no').trim(), 'no', 'nor in another sliver');

  const api = new ApiClient(status.apiSocket);
  t.after(() => api.close());
  const version = cgroupVersionAt(node.cgroupParent);
  assert.ok(version);
  const cpuMatches = async (name: string) => {
    const rspec = (await api.get('Sliver', name)).status?.effectiveRSpec;
    assert.ok(rspec);
    return cpuFiles(version, rspec).every(([file, value]) => readFileSync(join(node.cgroupParent, name, file), 'utf8').trim() === value);
  };
  for (const name of NAMES) assert.ok(await cpuMatches(name), `${name}: cgroup files match its effective rspec`);
  const shares = (name: string) => readFileSync(join(node.cgroupParent, name, version === 1 ? 'cpu.shares' : 'cpu.weight'), 'utf8').trim();
  const before = shares('lxc_gamma');
  const loan: Loan = { apiVersion: API_VERSION, kind: 'Loan', metadata: { name: 'lxc_alpha.0' }, spec: { from: 'lxc_alpha', to: 'lxc_gamma', resource: 'cpu_share', amount: 16, order: 0 } };
  await api.create(loan);
  await waitUntil(() => shares('lxc_gamma') !== before);
  assert.notEqual(shares('lxc_gamma'), before, "a Loan changes the borrower's cpu.shares");
  assert.ok(await cpuMatches('lxc_gamma'));
  assert.ok(await cpuMatches('lxc_alpha'));

  // A newer answer without lxc_gamma (SIGHUP): its container, upper layer and mounts go.
  const gammaDir = join(lxcPath, 'lxc_gamma');
  writeFileSync(configFile, config('two.json'));
  daemon.child.kill('SIGHUP');
  await waitForStatus(node.dataDir, daemon, (s) => s.slivers.total === 2, 'lxc_gamma is deleted');
  await waitUntil(() => !existsSync(gammaDir));
  assert.equal(existsSync(gammaDir), false, 'container dir and upper layer removed');
  assert.equal(isMountPoint(join(gammaDir, 'rootfs')), false);
  assert.deepEqual(running(), ['lxc_alpha', 'lxc_beta']);

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
});
