// A node's slvd loads what only some nodes use on first use: the etcd client (etcd3, gRPC and
// protobufjs, some 25 MB resident) only when it joins a fleet or serves the fleet API, yaml only
// for a config file. A static import anywhere the entry reaches would make every node pay for it.
// Node's module debug log names every CommonJS file it loads, these packages' included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../../../support/runtime-helpers.js';
import { spawnSlvd, waitForStatus } from '../../../support/slvd-process.js';

const FLEET_ONLY = ['etcd3', '@grpc/grpc-js', 'protobufjs'];

test('a node without a fleet or config file starts to Ready without loading the etcd client or yaml', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t, 'slvd-lazy-');
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--no-plc'], [], { ...process.env, NODE_DEBUG: 'module' });
  await waitForStatus(dataDir, daemon, (s) => s.ready, 'slvd is Ready');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output().slice(-2000));
  const log = daemon.output();
  assert.match(log, /node_modules\/better-sqlite3\//, 'the module log names the packages slvd loads at start');
  for (const name of [...FLEET_ONLY, 'yaml']) assert.doesNotMatch(log, new RegExp(`node_modules/${name}/`), `${name} was loaded by a node without a fleet`);
});
