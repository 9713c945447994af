// Node adapter figures: what the linux adapter costs per sliver in a temporary root prefix with a
// test cgroup parent (create with useradd, keys, limits into a real cgroup, start/stop, destroy).
// Needs root; prints a note and no figures otherwise. The 1,000-sliver limits figure with bwlimit
// is bench/bwlimit*.bench.ts.
import { performance } from 'node:perf_hooks';
import { createLinuxAdapter } from '../adapters/node/linux/index.js';
import { DEFAULT_RSPEC } from '../resources/rspec.js';
import { makeTestRoot, removeTestRoots, SKIP_TEST_ROOTS } from '../test/support/test-roots.js';
import { report } from './report.js';

const BENCH = 'adapters';
const SLIVERS = 50;

async function perSliver(metric: string, names: string[], body: (name: string) => Promise<unknown>): Promise<void> {
  const start = performance.now();
  for (const name of names) await body(name);
  report(BENCH, metric, (performance.now() - start) / names.length, 'ms/sliver', { slivers: names.length, adapter: 'linux' });
}

if (SKIP_TEST_ROOTS) {
  process.stderr.write(`bench/adapters: skipped, the linux adapter ${SKIP_TEST_ROOTS}\n`);
} else {
  const node = makeTestRoot('bench');
  const adapter = createLinuxAdapter({ dataDir: node.dataDir, root: node.root, cgroupParent: node.cgroupParent, uidRange: node.uidRange });
  const names = Array.from({ length: SLIVERS }, (_, i) => `pl_bench${i}`);
  try {
    await perSliver('linux_create_account', names, (name) => adapter.createAccount(name, 'sliver', 'sliver.VServer'));
    await perSliver('linux_set_keys', names, (name) => adapter.setKeys(name, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbench bench@slv']));
    await perSliver('linux_apply_limits', names, (name) => adapter.applyLimits(name, { ...DEFAULT_RSPEC, cpu_min: 100 }));
    await perSliver('linux_list_accounts', names, () => adapter.listAccounts());
    await perSliver('linux_start_stop', names.slice(0, 20), async (name) => {
      await adapter.setInitscript(name, '#!/bin/sh\nexec sleep 60\n');
      await adapter.start(name);
      await adapter.stop(name);
    });
    await perSliver('linux_destroy_account', names, (name) => adapter.destroyAccount(name));
  } finally {
    await adapter.close();
    await removeTestRoots();
  }
}
