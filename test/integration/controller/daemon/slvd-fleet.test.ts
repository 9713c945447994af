// slvd --fleet as a real process against a real etcd member: started while etcd is unreachable it
// still comes up and serves from its own store; once etcd answers it mirrors its namespace,
// publishes Ready, keeps a heartbeat, and on SIGTERM gives its lease back (the heartbeat goes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect, heartbeatKey, openNamespace } from '../../../../adapters/fleet/layout.js';
import type { Heartbeat } from '../../../../resources/fleet.js';
import { API_VERSION, type Sliver } from '../../../../schemas/types.js';
import { sliverSpec } from '../../../support/controllers-harness.js';
import { EtcdCluster, etcdMissing } from '../../../support/etcd.js';
import { tempDir } from '../../../support/runtime-helpers.js';
import { spawnSlvd, waitForOutput, waitForStatus } from '../../../support/slvd-process.js';
import { TcpGate } from '../../../support/tcp-gate.js';

const ROOT = '/fleet/';

async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('slvd --fleet starts without etcd, then follows its namespace and heartbeats once etcd answers', { skip: etcdMissing, timeout: 90_000 }, async (t) => {
  const cluster = new EtcdCluster(1);
  t.after(() => cluster.stop());
  await cluster.start();
  const gate = new TcpGate({ host: '127.0.0.1', port: Number(new URL(cluster.endpoints[0]!).port) });
  t.after(() => gate.close());
  await gate.start();
  gate.cut();
  const admin = connect({ hosts: cluster.endpoints, root: ROOT });
  t.after(() => admin.close());
  const fleet = await openNamespace(admin, { hosts: cluster.endpoints, root: ROOT }, 'n1');
  t.after(() => fleet.close());

  const dataDir = tempDir(t, 'slvd-fleet-');
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--api-socket', join(dataDir, 'api.sock'), '--fleet', `etcd://127.0.0.1:${gate.port}${ROOT}`, '--node-name', 'n1']);
  await waitForStatus(dataDir, daemon, (s) => s.ready, 'slvd is ready with etcd unreachable');
  await waitForOutput(daemon, /fleet link down: running from the local store/);

  await fleet.create<Sliver>({ apiVersion: API_VERSION, kind: 'Sliver', metadata: { name: 'fleetling' }, spec: sliverSpec() });
  gate.reopen();
  await eventually('the fleet sliver is Ready in etcd', async () => (await fleet.get('Sliver', 'fleetling')).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const beat = await eventually('n1 heartbeats', async () => (await admin.get(heartbeatKey(ROOT, 'n1')).json()) as Heartbeat | null);
  assert.equal(beat.node, 'n1');
  await eventually('the heartbeat counts the ready sliver', async () => ((await admin.get(heartbeatKey(ROOT, 'n1')).json()) as Heartbeat).slivers.ready >= 1);

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
  assert.equal(await admin.get(heartbeatKey(ROOT, 'n1')).string(), null, 'the lease was given back: no heartbeat left');
});
