// End to end through the daemon: slvd as a real process with the linux adapter in a temporary
// --root prefix (its own uid block and test cgroup parent), fed by a PLC file. Accounts, shells,
// homes, keys, the init script and cgroups are checked on disk; the host's account files must not
// change. A newer PLC answer (picked up on SIGHUP) reconfigures one sliver's keys and, by leaving
// the other out, destroys its account. Run twice: from the sources, and as installed (bin/slvd.js,
// which runs the build's bundle, with execa bundled into it).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { ApiClient } from '../../../adapters/api/client/client.js';
import { cgroupVersionAt, cpuFiles } from '../../../adapters/node/posix/cgroup.js';
import { LINUX_SHELLS } from '../../../adapters/node/linux/index.js';
import { hostEtcHashes, makeTestRoot, SKIP_TEST_ROOTS, removeTestRoots, waitForFile, waitUntil } from '../../support/test-roots.js';
import { spawnSlvd, waitForStatus } from '../../support/slvd-process.js';

const ALPHA_KEYS = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIalpha1 one@alpha', 'ssh-rsa AAAAB3NzaC1yc2EAAAADalpha2 two@alpha'];
// Written last (by rename), so the file appearing means the script ran to the end.
const INITSCRIPT = '#!/bin/sh\necho "$1 $(id -u) $(id -g)" > "$HOME/ran.tmp" && mv "$HOME/ran.tmp" "$HOME/ran"\n';

const plcRecord = (name: string, extra: Record<string, unknown>) => ({ name, instantiation: 'plc-instantiated', keys: [], attributes: [], ...extra });
const alpha = plcRecord('e2e_alpha', {
  keys: ALPHA_KEYS.map((key) => ({ key_type: 'ssh', key })),
  attributes: [
    { name: 'cpu_share', value: '64' },
    { name: 'initscript', value: INITSCRIPT },
  ],
});
const beta = plcRecord('e2e_beta', { attributes: [{ name: 'cpu_min', value: '100' }] });
const delegate = plcRecord('e2e_deleg', { instantiation: 'nm-controller', type: 'delegate', keys: [{ key_type: 'ssh', key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIdeleg ops@plc' }] });

function passwd(root: string): Map<string, string[]> {
  return new Map(
    readFileSync(join(root, 'etc/passwd'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.split(':')[0]!, line.split(':')]),
  );
}

after(removeTestRoots);

for (const [how, installed] of [
  ['from the sources', false],
  ['as installed', true],
] as const) {
  test(
    `slvd --adapter linux --root PREFIX (${how}): PLC slivers and a delegate become accounts; a sliver PLC drops is destroyed; the host /etc is untouched`,
    { skip: SKIP_TEST_ROOTS, timeout: 60_000 },
    (t) => linuxNodeEndToEnd(t, installed),
  );
}

async function linuxNodeEndToEnd(t: TestContext, installed: boolean): Promise<void> {
  const hostBefore = hostEtcHashes();
  const node = makeTestRoot('e2e-linux');
  const writeAnswer = (file: string, timestamp: number, slivers: unknown[]) => writeFileSync(join(node.dataDir, file), JSON.stringify({ timestamp, slivers }));
  writeAnswer('one.json', 100, [alpha, beta, delegate]);
  // The newer answer also drops one of e2e_alpha's keys: a reconfiguration.
  writeAnswer('two.json', 200, [{ ...alpha, keys: alpha.keys.slice(0, 1) }, delegate]);
  const configFile = join(node.dataDir, 'slvd.yaml');
  const config = (plcFile: string) =>
    `adapter: linux\nroot: ${node.root}\ncgroupParent: ${node.cgroupParent}\nuidRange: {min: ${node.uidRange.min}, max: ${node.uidRange.max}}\nplcFile: ${plcFile}\nperiod: 3600\n`;
  writeFileSync(configFile, config('one.json'));

  const daemon = spawnSlvd(t, ['--data-dir', node.dataDir, '--config', configFile], [], process.env, installed);
  const status = await waitForStatus(node.dataDir, daemon, (s) => s.ready && s.slivers.ready === 2 && s.delegates.ready === 1, 'both slivers and the delegate are Ready');
  assert.equal(status.adapter, 'linux');

  const accounts = passwd(node.root);
  const uidOf = (name: string) => Number(accounts.get(name)?.[2]);
  for (const [name, shell] of [
    ['e2e_alpha', LINUX_SHELLS.sliver],
    ['e2e_beta', LINUX_SHELLS.sliver],
    ['e2e_deleg', LINUX_SHELLS.delegate],
  ] as const) {
    const entry = accounts.get(name);
    assert.ok(entry, `${name} is in <root>/etc/passwd`);
    assert.equal(entry[6], shell, `${name}'s login shell`);
    assert.equal(entry[5], `/home/${name}`);
    assert.ok(uidOf(name) >= node.uidRange.min && uidOf(name) <= node.uidRange.max, `${name}'s uid ${uidOf(name)} comes from the configured range`);
    assert.equal(statSync(join(node.root, 'home', name)).uid, uidOf(name), `${name}'s home belongs to it`);
    assert.equal(existsSync(`/home/${name}`), false, 'nothing was made on the host');
  }
  assert.deepEqual(readFileSync(join(node.root, 'etc/shells'), 'utf8').split('\n').filter(Boolean).sort(), Object.values(LINUX_SHELLS).sort());

  const keysFile = join(node.root, 'home/e2e_alpha/.ssh/authorized_keys');
  assert.deepEqual(readFileSync(keysFile, 'utf8').split('\n').filter(Boolean), ALPHA_KEYS);
  const keys = statSync(keysFile);
  assert.deepEqual([keys.uid, keys.mode & 0o777], [uidOf('e2e_alpha'), 0o600], "authorized_keys is the account's, mode 0600");

  const alphaUid = uidOf('e2e_alpha');
  const ran = (await waitForFile(join(node.root, 'home/e2e_alpha/ran'))).trim();
  assert.equal(ran, `start ${alphaUid} ${accounts.get('e2e_alpha')?.[3]}`, 'the init script ran with "start" as the account');

  // The CPU limits the daemon applied are the ones the effective rspec asks for.
  const api = new ApiClient(status.apiSocket);
  t.after(() => api.close());
  const version = cgroupVersionAt(node.cgroupParent);
  assert.ok(version, 'the test cgroup parent is on a cgroup filesystem');
  for (const name of ['e2e_alpha', 'e2e_beta']) {
    const rspec = (await api.get('Sliver', name)).status?.effectiveRSpec;
    assert.ok(rspec, `${name} has an effective rspec`);
    for (const [file, value] of cpuFiles(version, rspec)) assert.equal(readFileSync(join(node.cgroupParent, name, file), 'utf8').trim(), value, `${name} ${file}`);
  }

  // A newer answer without e2e_beta, picked up on SIGHUP: its account, home and cgroup go; e2e_alpha's keys change.
  writeFileSync(configFile, config('two.json'));
  daemon.child.kill('SIGHUP');
  await waitForStatus(node.dataDir, daemon, (s) => s.plc.lastSync?.deleted === 1 && s.slivers.total === 1 && s.slivers.ready === 1, 'e2e_beta is deleted');
  await waitUntil(() => !passwd(node.root).has('e2e_beta'));
  assert.deepEqual([...passwd(node.root).keys()].sort(), ['e2e_alpha', 'e2e_deleg', 'root']);
  assert.equal(existsSync(join(node.root, 'home/e2e_beta')), false, "e2e_beta's home is removed");
  assert.equal(existsSync(join(node.cgroupParent, 'e2e_beta')), false, "e2e_beta's cgroup is removed");
  assert.equal(await api.tryGet('Sliver', 'e2e_beta'), undefined);
  await waitUntil(() => readFileSync(keysFile, 'utf8') === `${ALPHA_KEYS[0]}\n`);
  assert.equal(readFileSync(keysFile, 'utf8'), `${ALPHA_KEYS[0]}\n`, "e2e_alpha's authorized_keys follows the newer answer");
  assert.equal(statSync(keysFile).mode & 0o777, 0o600);

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
  assert.equal(uidOf('e2e_alpha'), Number(passwd(node.root).get('e2e_alpha')?.[2]), 'the kept sliver keeps its uid');
  assert.deepEqual(hostEtcHashes(), hostBefore, 'the host /etc/passwd, shadow, group, gshadow and shells are unchanged');
}
