// A node's slvd loads what only some nodes use on first use: the etcd client (etcd3, gRPC and
// protobufjs, some 25 MB resident) only when it joins a fleet or serves the fleet API, yaml only
// for a config file, ajv only when it first validates a write (a node with nothing to write never does),
// xmlrpc (and its xmlbuilder) only for the first XML-RPC call it answers or makes to PLC. A static import anywhere the entry reaches would make every node pay for it.
// prom-client's index, which loads its default metrics and @opentelemetry/api, never: slv takes its
// classes from their own files (adapters/support/prometheus.ts) and collects no default metrics.
// Node's module debug log names every CommonJS file it loads, these packages' included. Both the
// sources and the installed command (bin/slvd.js, which runs the build's bundle: a bundler that
// followed a lazy import would load the package at start) are checked.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { tempDir } from '../../../support/runtime-helpers.js';
import { spawnSlvd, waitForStatus, type Daemon } from '../../../support/slvd-process.js';

const FLEET_ONLY = ['etcd3', '@grpc/grpc-js', 'protobufjs'];

/** Node's module log of a node without a fleet or config file, started to Ready and stopped. */
async function moduleLogToReady(t: TestContext, installed: boolean): Promise<string> {
  const dataDir = tempDir(t, 'slvd-lazy-');
  const daemon: Daemon = spawnSlvd(t, ['--data-dir', dataDir, '--no-plc'], [], { ...process.env, NODE_DEBUG: 'module' }, installed);
  await waitForStatus(dataDir, daemon, (s) => s.ready, 'slvd is Ready');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output().slice(-2000));
  const log = daemon.output();
  assert.match(log, /node_modules\/better-sqlite3\//, 'the module log names the packages slvd loads at start');
  return log;
}

function assertNoLazyPackages(log: string): void {
  for (const name of [...FLEET_ONLY, 'yaml', 'ajv', 'xmlrpc', 'xmlbuilder']) {
    assert.doesNotMatch(log, new RegExp(`node_modules/${name}/`), `${name} was loaded by a node without a fleet, a config file, a write, PLC or an XML-RPC call`);
  }
  assert.match(log, /node_modules\/prom-client\/lib\/registry\.js/, 'the module log names prom-client');
  assert.doesNotMatch(log, /node_modules\/prom-client\/index\.js/, "prom-client's index was loaded (import its classes from adapters/support/prometheus.ts)");
  assert.doesNotMatch(log, /node_modules\/@opentelemetry\//, '@opentelemetry/api was loaded');
}

test("a node without a fleet, config file or PLC starts to Ready without loading the etcd client, yaml, ajv, xmlrpc or prom-client's index", { timeout: 60_000 }, async (t) => {
  assertNoLazyPackages(await moduleLogToReady(t, false));
});

test("the installed slvd, which runs the build's bundle, loads none of them either", { timeout: 60_000 }, async (t) => {
  const log = await moduleLogToReady(t, true);
  // The daemon's modules are a chunk of the bundle, imported once the command line is read.
  assert.match(log, /dist\/bundle\/[\w-]+\.mjs/, 'bin/slvd.js ran the bundle (npm test builds it first; after editing a source, run node scripts/build.mjs)');
  assertNoLazyPackages(log);
});
