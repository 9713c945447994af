// End to end on real LXC with bwlimit: slvd --adapter lxc (accounts in a temporary --root prefix,
// containers in a temporary lxc path, a busybox image built here) with its limiter on the host's
// end of a veth pair into a receiver namespace, since containers share the host's network. A
// transfer sent by a process inside a sliver's container (busybox nc, as the container's root: a
// uid of its id range on the host) is held to the sliver's net_max, and a Loan raises it.
// The cleanup is registered first: containers, mounts, subid lines, cgroups, the namespace with
// the veth pair and its qdiscs, and the limiter's nftables table in the host namespace.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { ApiClient } from '../../../adapters/api/client/client.js';
import { API_VERSION, type Loan } from '../../../schemas/types.js';
import { assertNear, streamFrom } from '../../support/bwlimit-measure.js';
import { lxcCleanup, lxcSlvdConfig, makeLxcDaemonRoot, SKIP_LXC } from '../../support/lxc.js';
import { createHostLink, type HostLink } from '../../support/netns.js';
import { spawnSlvd, waitForStatus } from '../../support/slvd-process.js';
import { removeTestRoots } from '../../support/test-roots.js';

const NODE_CAP = 50_000_000;
const NET_MAX = 2_000_000;
const LOANED = 3_000_000;
const skip = SKIP_LXC;
const nftTable = `slv_test_lxc_${randomBytes(3).toString('hex')}`;
const containers = skip ? undefined : lxcCleanup();
let link: HostLink | undefined;
after(async () => {
  containers?.run();
  await link?.remove();
  try {
    execFileSync('nft', ['delete', 'table', 'inet', nftTable], { stdio: 'ignore' });
  } catch {
    // never made
  }
  removeTestRoots();
});

test('slvd --adapter lxc with bwlimit: a transfer from inside a container is held to net_max, and a Loan raises it', { skip, timeout: 120_000 }, async (t) => {
  assert.ok(containers);
  const node = makeLxcDaemonRoot('e2e-lxc-bw', containers);
  const { lxcPath, imageDir } = node;
  link = await createHostLink('lxcbw');
  const plcFile = join(node.dataDir, 'getslivers.json');
  const record = (name: string, attributes: Array<{ name: string; value: string }>) => ({ name, instantiation: 'plc-instantiated', keys: [], attributes });
  // lxc_lender has PLC's default net_max (1 Gbit/s) to lend from.
  writeFileSync(plcFile, JSON.stringify({ timestamp: 100, slivers: [record('lxc_slow', [{ name: 'net_max', value: String(NET_MAX) }]), record('lxc_lender', [])] }));
  const configFile = join(node.dataDir, 'slvd.yaml');
  writeFileSync(configFile, lxcSlvdConfig(node, plcFile, [`lxc: {lxcPath: ${lxcPath}, imageDir: ${imageDir}}`, `bwlimit: {device: ${link.device}, nodeCap: ${NODE_CAP}, nftTable: ${nftTable}}`]));

  const daemon = spawnSlvd(t, ['--data-dir', node.dataDir, '--config', configFile]);
  const status = await waitForStatus(node.dataDir, daemon, (s) => s.ready && s.slivers.ready === 2, 'both slivers are Ready');
  const address = link.receiverAddress;
  const fromInside = (name: string) =>
    streamFrom(link!.receiver, (port) => ({
      file: '/usr/bin/lxc-attach',
      args: ['-P', lxcPath, '-n', name, '--clear-env', '--', '/bin/sh', '-c', `cat /dev/zero | nc ${address} ${port}`],
    }));

  const [limited, lender] = await Promise.all([fromInside('lxc_slow'), fromInside('lxc_lender')]);
  t.diagnostic(`measured from inside: lxc_slow ${limited} bit/s, lxc_lender ${lender} bit/s`);
  assertNear(limited, NET_MAX, 'lxc_slow from inside its container (net_max 2 Mbit/s from PLC)');
  assert.ok(lender > 4 * NET_MAX, `lxc_lender (net_max 1 Gbit/s): measured ${(lender / 1e6).toFixed(2)} Mbit/s, expected well above 2 Mbit/s`);

  const api = new ApiClient(status.apiSocket);
  t.after(() => api.close());
  const loan: Loan = { apiVersion: API_VERSION, kind: 'Loan', metadata: { name: 'lxc_lender.0' }, spec: { from: 'lxc_lender', to: 'lxc_slow', resource: 'net_max', amount: LOANED, order: 0 } };
  await api.create(loan);
  for (let i = 0; i < 100 && (await api.get('Sliver', 'lxc_slow')).status?.appliedRSpec?.net_max !== NET_MAX + LOANED; i++) await sleep(100);
  assert.equal((await api.get('Sliver', 'lxc_slow')).status?.appliedRSpec?.net_max, NET_MAX + LOANED, 'the loan is applied');
  const loaned = await fromInside('lxc_slow');
  t.diagnostic(`measured from inside: lxc_slow with the loan ${loaned} bit/s`);
  assertNear(loaned, NET_MAX + LOANED, 'lxc_slow after the loan (5 Mbit/s)');

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
});
