// The node duties admin-accounts and conf-files through the real runtime and SQLite store, on real
// files in a --root prefix (chown needs root: as another user they skip), with conf file sources
// served over HTTPS by the PLC stand-in.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFiles } from '../../../../adapters/node/posix/node-files.js';
import { PlcClient } from '../../../../adapters/plc/index.js';
import { CONF_FILES_PERIOD_MS } from '../../../../controller/controllers/conf-files.js';
import { FakeClock } from '../../../../controller/runtime/index.js';
import type { Store } from '../../../../adapters/store/contract.js';
import { API_VERSION, NODE_CONFIG_NAME, type ConfFile, type NodeAccount, type NodeConfig, type NodeConfigSpec } from '../../../../schemas/types.js';
import { removeTempDirs, startDaemon, tempDir, TEST_TIMEOUT, type Daemon } from '../../../support/controllers-harness.js';
import { startPlcStandIn } from '../../../support/plc-stand-in.js';
import { isRoot } from '../../../support/host-needs.js';

after(removeTempDirs);

/** The files are chowned to their accounts (root's, site_admin's), which only root may do. */
const AS_ROOT = { ...TEST_TIMEOUT, skip: isRoot ? false : 'needs root: the files are chowned to the accounts they belong to' };

const SITE_ADMIN_UID = 4242;

/** A node root with root and site_admin accounts and their homes. */
function nodeRoot(): string {
  const root = tempDir();
  mkdirSync(join(root, 'etc/planetlab'), { recursive: true });
  mkdirSync(join(root, 'root'), { mode: 0o700 });
  mkdirSync(join(root, 'home/site_admin'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/bash\nsite_admin:x:${SITE_ADMIN_UID}:${SITE_ADMIN_UID}::/home/site_admin:/bin/bash\n`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\nsite_admin:x:${SITE_ADMIN_UID}:\n`);
  return root;
}

const spec = (overrides: Partial<NodeConfigSpec>): NodeConfigSpec => ({ timestamp: 1, accounts: [], confFiles: [], reservationPolicy: 'none', leases: [], groups: [], ...overrides });

/** Write NodeConfig/plc as the PLC source does: create it, or replace its spec. */
async function putNodeConfig(store: Store, overrides: Partial<NodeConfigSpec>): Promise<void> {
  const current = await store.get('NodeConfig', NODE_CONFIG_NAME).catch(() => undefined);
  if (current) await store.update({ ...current, spec: spec(overrides) });
  else await store.create<NodeConfig>({ apiVersion: API_VERSION, kind: 'NodeConfig', metadata: { name: NODE_CONFIG_NAME }, spec: spec(overrides) });
}

async function eventMessages(store: Store, reason: string): Promise<string[]> {
  return (await store.list('Event')).items.filter((event) => event.spec.reason === reason).map((event) => event.spec.message);
}

test('admin keys appear and disappear with PLC, 0600 and owned by the account; without a NodeConfig the last ones stay', AS_ROOT, async (t) => {
  const root = nodeRoot();
  // A planted symlink in place of site_admin's .ssh must be replaced, not followed.
  const outside = tempDir();
  symlinkSync(outside, join(root, 'home/site_admin/.ssh'));
  const daemon = await startDaemon({ duties: { files: new NodeFiles(root), confFileDirs: ['/etc/planetlab'], commandTimeoutMs: 5_000 } });
  t.after(() => daemon.stop());
  const accounts = (rootKeys: string[], adminKeys: string[]): NodeAccount[] => [
    { name: 'root', keys: rootKeys },
    { name: 'site_admin', keys: adminKeys },
  ];
  const rootKeys = join(root, 'root/.ssh/authorized_keys');
  const adminKeys = join(root, 'home/site_admin/.ssh/authorized_keys');

  await putNodeConfig(daemon.store, { accounts: accounts(['ssh-ed25519 AAAA1 ops@plc', 'ssh-rsa BBBB2 tech@site'], ['ssh-ed25519 CCCC3 admin@site']) });
  await daemon.settle();
  assert.equal(readFileSync(rootKeys, 'utf8'), 'ssh-ed25519 AAAA1 ops@plc\nssh-rsa BBBB2 tech@site\n');
  assert.equal(readFileSync(adminKeys, 'utf8'), 'ssh-ed25519 CCCC3 admin@site\n');
  const adminStat = statSync(adminKeys);
  assert.equal(adminStat.mode & 0o777, 0o600);
  assert.equal(adminStat.uid, SITE_ADMIN_UID);
  assert.equal(statSync(join(root, 'home/site_admin/.ssh')).mode & 0o777, 0o700);
  assert.equal(lstatSync(join(root, 'home/site_admin/.ssh')).isSymbolicLink(), false, 'the planted link was replaced');
  assert.equal(existsSync(join(outside, 'authorized_keys')), false, 'nothing was written through the link');

  await putNodeConfig(daemon.store, { timestamp: 2, accounts: accounts(['ssh-ed25519 AAAA1 ops@plc'], []) });
  await daemon.settle();
  assert.equal(readFileSync(rootKeys, 'utf8'), 'ssh-ed25519 AAAA1 ops@plc\n', 'the dropped key is gone');
  assert.equal(readFileSync(adminKeys, 'utf8'), '', 'site_admin has no keys left');
  assert.ok((await eventMessages(daemon.store, 'AdminKeysWritten')).includes("site_admin's authorized_keys now holds 0 key(s) from PLC"));

  // site_admin's home replaced by a file: root still gets its keys, a Warning names the problem.
  rmSync(join(root, 'home/site_admin'), { recursive: true });
  writeFileSync(join(root, 'home/site_admin'), '');
  await putNodeConfig(daemon.store, { timestamp: 3, accounts: accounts(['ssh-ed25519 DDDD4 new@plc'], ['ssh-ed25519 CCCC3 admin@site']) });
  await daemon.settle();
  assert.equal(readFileSync(rootKeys, 'utf8'), 'ssh-ed25519 DDDD4 new@plc\n');
  assert.match((await eventMessages(daemon.store, 'AdminKeysFailed'))[0] ?? '', /site_admin's authorized_keys not written: .*home\/site_admin is not a directory/);

  await daemon.store.delete('NodeConfig', NODE_CONFIG_NAME);
  await daemon.settle();
  assert.equal(readFileSync(rootKeys, 'utf8'), 'ssh-ed25519 DDDD4 new@plc\n', 'no PLC answer: the last keys stay');
  assert.match(await daemon.manager.registry.metrics(), /slv_admin_keys_writes_total\{account="root"\} 3/);
});

interface ConfWorld {
  root: string;
  daemon: Daemon;
  clock: FakeClock;
  files: Map<string, string>;
  postLog: () => string[];
}

async function confWorld(t: TestContext): Promise<ConfWorld> {
  const root = nodeRoot();
  const plc = await startPlcStandIn(t, { nodes: {}, answer: () => ({}) });
  const client = new PlcClient({ url: plc.url, cacert: plc.caFile, timeoutMs: 5_000 });
  const clock = new FakeClock();
  const daemon = await startDaemon({
    clock,
    duties: { files: new NodeFiles(root), fetchConfFile: (source) => client.fetchFile(source), confFileDirs: ['/etc/planetlab'], commandTimeoutMs: 5_000 },
  });
  t.after(() => daemon.stop());
  const postLog = () => (existsSync(join(root, 'post.log')) ? readFileSync(join(root, 'post.log'), 'utf8').trim().split('\n') : []);
  return { root, daemon, clock, files: plc.files, postLog };
}

const confFile = (overrides: Partial<ConfFile>): ConfFile => ({
  dest: '/etc/planetlab/node.conf',
  source: 'PlanetLabConf/node.conf',
  permissions: '640',
  owner: 'root',
  group: 'site_admin',
  preinstallCmd: '',
  postinstallCmd: 'echo "$(cat etc/planetlab/node.conf)" >> post.log',
  errorCmd: '',
  ignoreCmdErrors: false,
  alwaysUpdate: false,
  ...overrides,
});

test('a conf file is installed once, not rewritten when unchanged, re-installed when changed on PLC, postinstall once per change', AS_ROOT, async (t) => {
  const { root, daemon, clock, files, postLog } = await confWorld(t);
  const dest = join(root, 'etc/planetlab/node.conf');
  files.set('PlanetLabConf/node.conf', 'version 1\n');
  await putNodeConfig(daemon.store, { confFiles: [confFile({})] });
  await daemon.settle();
  assert.equal(readFileSync(dest, 'utf8'), 'version 1\n');
  const installed = statSync(dest);
  assert.equal(installed.mode & 0o777, 0o640);
  assert.equal(installed.gid, SITE_ADMIN_UID);
  assert.deepEqual(postLog(), ['version 1']);

  // The period passes with nothing changed on PLC: fetched again, not rewritten, no postinstall.
  clock.advance(CONF_FILES_PERIOD_MS);
  await daemon.settle();
  assert.equal(statSync(dest).ino, installed.ino, 'the same file, not a rewrite');
  assert.deepEqual(postLog(), ['version 1']);

  files.set('PlanetLabConf/node.conf', 'version 2\n');
  clock.advance(CONF_FILES_PERIOD_MS);
  await daemon.settle();
  assert.equal(readFileSync(dest, 'utf8'), 'version 2\n');
  assert.deepEqual(postLog(), ['version 1', 'version 2']);
  assert.deepEqual(await eventMessages(daemon.store, 'ConfFileInstalled'), ['/etc/planetlab/node.conf installed from PlanetLabConf/node.conf']);
  const installedAt = new Date(clock.now()).toISOString().replace('.000Z', 'Z');
  assert.deepEqual((await daemon.store.get('NodeConfig', NODE_CONFIG_NAME)).status?.confFiles, [{ dest: '/etc/planetlab/node.conf', outcome: 'installed', lastInstalled: installedAt }]);
});

test('a failing preinstall or a failed fetch keeps the old file; error_cmd runs; a destination outside the allowed directories is refused', AS_ROOT, async (t) => {
  const { root, daemon, clock, files, postLog } = await confWorld(t);
  const dest = join(root, 'etc/planetlab/node.conf');
  files.set('PlanetLabConf/node.conf', 'good\n');
  files.set('PlanetLabConf/passwd', 'evil::0:0::/:/bin/sh\n');
  const passwdBefore = readFileSync(join(root, 'etc/passwd'), 'utf8');
  symlinkSync('..', join(root, 'etc/planetlab/up'));
  await putNodeConfig(daemon.store, {
    confFiles: [
      confFile({}),
      confFile({ dest: '/etc/passwd', source: 'PlanetLabConf/passwd' }),
      confFile({ dest: '/etc/planetlab/../passwd', source: 'PlanetLabConf/passwd' }),
      confFile({ dest: '/etc/planetlab/up/passwd', source: 'PlanetLabConf/passwd' }),
    ],
  });
  await daemon.settle();
  assert.equal(readFileSync(dest, 'utf8'), 'good\n');
  assert.equal(readFileSync(join(root, 'etc/passwd'), 'utf8'), passwdBefore, 'PLC cannot overwrite /etc/passwd');
  assert.match((await eventMessages(daemon.store, 'ConfFileInstallFailed'))[0] ?? '', /\/etc\/planetlab\/up\/passwd: not installed: its directory resolves to \/etc, outside the allowed directories/);
  const refused = await eventMessages(daemon.store, 'ConfFileRefused');
  assert.equal(refused.length, 2);
  assert.match(refused.join('\n'), /\/etc\/passwd: destination \/etc\/passwd is outside the allowed directories \(\/etc\/planetlab\)/);

  files.set('PlanetLabConf/node.conf', 'bad\n');
  await putNodeConfig(daemon.store, { timestamp: 2, confFiles: [confFile({ preinstallCmd: 'exit 3', errorCmd: 'echo error >> error.log' })] });
  await daemon.settle();
  assert.equal(readFileSync(dest, 'utf8'), 'good\n', 'preinstall failed: the old file stays');
  assert.deepEqual(postLog(), ['good']);
  assert.equal(readFileSync(join(root, 'error.log'), 'utf8'), 'error\n');
  assert.match((await eventMessages(daemon.store, 'ConfFilePreinstallFailed'))[0] ?? '', /preinstall_cmd failed, the installed file is kept: .*exit 3/);
  const [preinstallStatus] = (await daemon.store.get('NodeConfig', NODE_CONFIG_NAME)).status?.confFiles ?? [];
  assert.equal(preinstallStatus?.outcome, 'preinstall-failed');
  assert.ok(preinstallStatus?.lastInstalled !== undefined, 'the last install is still shown');

  // The source disappears from PLC: the fetch fails (retried with backoff), the file stays.
  files.delete('PlanetLabConf/node.conf');
  await putNodeConfig(daemon.store, { timestamp: 3, confFiles: [confFile({})] });
  await daemon.settle();
  assert.equal(readFileSync(dest, 'utf8'), 'good\n');
  assert.match((await eventMessages(daemon.store, 'ConfFileFetchFailed'))[0] ?? '', /HTTP 404; the installed file is kept/);
  // Back on PLC: the retry installs it.
  files.set('PlanetLabConf/node.conf', 'back\n');
  clock.advance(60_000);
  await daemon.settle();
  assert.equal(readFileSync(dest, 'utf8'), 'back\n');
});
