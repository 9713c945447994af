// What the benches of the compiled commands share: building dist/ first (the bins run the build
// when it is current, else the sources through tsx, which these benches do not measure), and the
// arguments every bench's slvd takes: its own endpoints in its data dir (never the host-wide
// sockets other work may use) and a quiet log.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** A path in this checkout. */
export const checkout = (relative: string): string => new URL(`../${relative}`, import.meta.url).pathname;

export function buildDist(): void {
  const build = spawnSync(process.execPath, [checkout('scripts/build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed: the bins would run through tsx, which this bench does not measure');
}

export function benchSlvdArgs(dataDir: string, xmlrpcPort = 0): string[] {
  return ['--data-dir', dataDir, '--xmlrpc-port', String(xmlrpcPort), '--xmlrpc-socket', join(dataDir, 'sliver_mgr.api'), '--xmlrpc-legacy-socket', 'none', '--log-level', 'warn'];
}
