// A fleet for tests: sim nodes in this process (the real controllers on a SQLite store each, linked
// to etcd by NodeSync) and the fleet API as a real `slvd --role fleet-api` child process.
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify as stringifyYaml } from 'yaml';
import { NodeSync } from '../../adapters/fleet/node-sync.js';
import { systemClock } from '../../controller/runtime/clock.js';
import { sliverManifest } from './api-harness.js';
import { startDaemon, type Daemon } from './controllers-harness.js';
import { spawnSlvd, type Daemon as SlvdProcess } from './slvd-process.js';
import { slvctl } from './slvctl-harness.js';
import { freePort } from './xmlrpc-harness.js';

export interface InProcessNode {
  name: string;
  daemon: Daemon;
  sync: NodeSync;
}

/** A sim node named `name` following its namespace under `root` on `endpoints`, heartbeating every second. */
export async function startFleetNode(name: string, endpoints: string[], root: string): Promise<InProcessNode> {
  const daemon = await startDaemon({ clock: systemClock });
  const sync = new NodeSync({ fleet: { hosts: endpoints, root }, node: name, local: daemon.store, log: pino({ level: 'silent' }), heartbeatSeconds: 1, retryMs: 200 });
  sync.start();
  return { name, daemon, sync };
}

export async function stopFleetNode(node: InProcessNode): Promise<void> {
  await node.sync.close();
  await node.daemon.stop();
}

export interface FleetApi {
  process: SlvdProcess;
  socket: string;
  port: number;
}

/** `slvd --role fleet-api` on its own socket in `dir` and a free loopback port (and `args`); ready once it answers. */
export async function startFleetApi(t: TestContext, dir: string, endpoints: string[], root: string, args: string[] = []): Promise<FleetApi> {
  const port = await freePort();
  const socket = join(dir, 'api.sock');
  const hosts = endpoints.map((url) => new URL(url).host).join(',');
  const child = spawnSlvd(t, ['--data-dir', dir, '--role', 'fleet-api', '--store', `etcd://${hosts}${root}`, '--api-socket', socket, '--api-port', String(port), ...args]);
  const deadline = Date.now() + 60_000; // a loaded machine takes long to compile and start slvd
  for (;;) {
    const run = await slvctl(['version'], { socket });
    if (run.code === 0) return { process: child, socket, port };
    if (child.child.exitCode !== null || Date.now() > deadline) throw new Error(`the fleet API did not start: ${run.stderr}\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Polls `probe` every 200 ms until it returns something truthy; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A sliver's manifest as an operator writes it, in `namespace` when given. */
export function sliverYaml(name: string, namespace?: string): string {
  return stringifyYaml(sliverManifest(name, {}, namespace === undefined ? {} : { namespace }));
}
