// The node-config controller through the real runtime and SQLite store: PLC's node bandwidth cap
// (NodeConfig/plc spec.bandwidthCap) goes to the bandwidth limiter; without one, the configured cap.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, NODE_CONFIG_NAME, type NodeConfig, type NodeConfigSpec } from '../../../../schemas/types.js';
import { removeTempDirs, startDaemon, TEST_TIMEOUT } from '../../../support/controllers-harness.js';
import { RecordingBandwidthLimiter } from '../../../support/test-roots.js';

after(removeTempDirs);

const spec = (bandwidthCap?: number): NodeConfigSpec => ({
  timestamp: 1,
  ...(bandwidthCap === undefined ? {} : { bandwidthCap }),
  accounts: [],
  confFiles: [],
  reservationPolicy: 'none',
  leases: [],
  groups: [],
});

test("PLC's node cap follows NodeConfig/plc: set, changed, dropped, deleted", TEST_TIMEOUT, async (t) => {
  const bandwidth = new RecordingBandwidthLimiter();
  bandwidth.nodeCap = 1; // not yet told anything
  const daemon = await startDaemon({ bandwidth });
  t.after(() => daemon.stop());
  const { store } = daemon;
  await store.create<NodeConfig>({ apiVersion: API_VERSION, kind: 'NodeConfig', metadata: { name: NODE_CONFIG_NAME }, spec: spec(100_000_000) });
  await daemon.settle();
  assert.equal(bandwidth.nodeCap, 100_000_000);
  const stored = await store.get('NodeConfig', NODE_CONFIG_NAME);
  await store.update({ ...stored, spec: spec() });
  await daemon.settle();
  assert.equal(bandwidth.nodeCap, undefined, 'no bwlimit from PLC: the configured cap');
  const again = await store.update({ ...(await store.get('NodeConfig', NODE_CONFIG_NAME)), spec: spec(5_000_000) });
  await daemon.settle();
  assert.equal(bandwidth.nodeCap, 5_000_000);
  await store.delete('NodeConfig', again.metadata.name);
  await daemon.settle();
  assert.equal(bandwidth.nodeCap, undefined);
});
