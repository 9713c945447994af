// End to end through the daemon: slvd with the linux adapter in a temporary --root prefix and its
// bwlimit section on the sender side of a network namespace pair. PLC gives a sliver net_max =
// 2 Mbit/s; the daemon's classes show up in tc, a real transfer sent as the sliver's uid is held to
// them while an unmanaged uid is not, and a Loan written through the REST API raises the limit.
// A device that does not exist stops the daemon at start, naming it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { ApiClient } from '../../../adapters/api/client/client.js';
import { exemptMinor, sliverMinor } from '../../../adapters/net/bwlimit/classes.js';
import { parseClassShow, type ShownClass } from '../../../adapters/net/bwlimit/tc.js';
import { API_VERSION, type Loan } from '../../../schemas/types.js';
import { makeTestRoot, removeTestRoots } from '../../support/test-roots.js';
import { SKIP_NETNS, createNetnsPair, showClasses, type NetnsPair } from '../../support/netns.js';
import { UNLIMITED_UID, assertNear, transfer } from '../../support/bwlimit-measure.js';
import { readStatus, spawnSlvd, waitForStatus } from '../../support/slvd-process.js';

const NODE_CAP = 50_000_000;
const NET_MAX = 2_000_000;
const LOANED = 3_000_000;

let pair: NetnsPair | undefined;
after(async () => {
  await pair?.remove();
  await removeTestRoots();
});

test("slvd with bwlimit: PLC net_max is enforced on a real transfer as the sliver's uid, and a Loan through the REST API raises it", { skip: SKIP_NETNS, timeout: 60_000 }, async (t) => {
  pair = await createNetnsPair('e2e');
  const node = makeTestRoot('e2e-bwlimit');
  const plcFile = join(node.dataDir, 'getslivers.json');
  const record = (name: string, attributes: Array<{ name: string; value: string }>) => ({ name, instantiation: 'plc-instantiated', keys: [], attributes });
  // e2e_lender has PLC's default net_max (1 Gbit/s) to lend from.
  writeFileSync(plcFile, JSON.stringify({ timestamp: 100, slivers: [record('e2e_slow', [{ name: 'net_max', value: String(NET_MAX) }]), record('e2e_lender', [])] }));
  const configFile = join(node.dataDir, 'slvd.yaml');
  writeFileSync(
    configFile,
    [
      'adapter: linux',
      `root: ${node.root}`,
      `cgroupParent: ${node.cgroupParent}`,
      `uidRange: {min: ${node.uidRange.min}, max: ${node.uidRange.max}}`,
      `bwlimit: {device: ${pair.device}, netns: ${pair.sender}, nodeCap: ${NODE_CAP}, exemptDestinations: [${pair.exemptCidr}]}`,
      `plcFile: ${plcFile}`,
      'period: 3600',
      '',
    ].join('\n'),
  );

  const daemon = spawnSlvd(t, ['--data-dir', node.dataDir, '--config', configFile]);
  const status = await waitForStatus(node.dataDir, daemon, (s) => s.ready && s.slivers.ready === 2, 'both slivers are Ready');
  const passwd = readFileSync(join(node.root, 'etc/passwd'), 'utf8');
  const uid = Number(/^e2e_slow:x:(\d+):/m.exec(passwd)?.[1]);
  assert.ok(uid >= node.uidRange.min && uid <= node.uidRange.max, `e2e_slow has a uid from the root's range (${uid})`);
  // The daemon maps uids from the start of the configured range (bwlimit.firstUid defaults to uidRange.min).
  const minor = sliverMinor(uid, node.uidRange.min);
  const classes = async () => parseClassShow(await showClasses(pair!));
  const sliverClass = async (): Promise<ShownClass | undefined> => (await classes()).get(minor);

  const shown = await classes();
  assert.equal(shown.get(minor)?.ceil, '2Mbit', `e2e_slow's class 1:${minor.toString(16)} has ceil net_max`);
  assert.ok(shown.has(exemptMinor(minor)), 'and its exempt class exists');
  assert.equal(shown.size, 3 + 2 * 2, 'the node cap, default and exempt cap classes, and two classes per sliver');

  const [limited, unlimited] = await Promise.all([transfer(pair, uid, pair.receiverAddress), transfer(pair, UNLIMITED_UID, pair.receiverAddress)]);
  t.diagnostic(`measured: e2e_slow ${limited} bit/s, unmanaged uid ${unlimited} bit/s`);
  assertNear(limited, NET_MAX, 'e2e_slow (net_max 2 Mbit/s from PLC)');
  assert.ok(unlimited > 4 * NET_MAX, `an unmanaged uid: measured ${(unlimited / 1e6).toFixed(2)} Mbit/s, expected well above 2 Mbit/s`);

  const api = new ApiClient(status.apiSocket);
  t.after(() => api.close());
  const loan: Loan = { apiVersion: API_VERSION, kind: 'Loan', metadata: { name: 'e2e_lender.0' }, spec: { from: 'e2e_lender', to: 'e2e_slow', resource: 'net_max', amount: LOANED, order: 0 } };
  await api.create(loan);
  for (let i = 0; i < 100 && (await sliverClass())?.ceil !== '5Mbit'; i++) await sleep(100);
  assert.equal((await sliverClass())?.ceil, '5Mbit', "the loan raised e2e_slow's class ceil");
  assert.equal((await api.get('Sliver', 'e2e_slow')).status?.effectiveRSpec?.net_max, NET_MAX + LOANED);
  assert.equal((await api.get('Loan', 'e2e_lender.0')).status?.granted, true);
  const loaned = await transfer(pair, uid, pair.receiverAddress);
  t.diagnostic(`measured: e2e_slow with the loan ${loaned} bit/s`);
  assertNear(loaned, NET_MAX + LOANED, 'e2e_slow after the loan (5 Mbit/s)');

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
});

test('slvd refuses to start when the bwlimit device does not exist, quoting tc', { skip: SKIP_NETNS, timeout: 30_000 }, async (t) => {
  const node = makeTestRoot('e2e-bwlimit');
  const configFile = join(node.dataDir, 'slvd.yaml');
  writeFileSync(configFile, `adapter: linux\nroot: ${node.root}\nnoPlc: true\nbwlimit: {device: slvnodev0, nodeCap: ${NODE_CAP}}\n`);
  const daemon = spawnSlvd(t, ['--data-dir', node.dataDir, '--config', configFile]);
  assert.equal(await daemon.exited, 1, daemon.output());
  assert.match(daemon.output(), /slvd: command failed: tc .*dev slvnodev0 .*Cannot find device "slvnodev0"/);
  assert.equal(readStatus(node.dataDir)?.phase, 'stopped', 'the lock is released and the status says stopped');
});
