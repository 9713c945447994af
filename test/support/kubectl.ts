// The real kubectl (/usr/bin/kubectl) for the end-to-end tests, through a kubeconfig the project
// writes, each uid with a HOME and cache of its own in the test's directory.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startProgram, type Run } from './slvctl-harness.js';

export const KUBECTL = '/usr/bin/kubectl';

/** Why the kubectl tests skip, or false when kubectl is there. */
export const kubectlMissing: string | false = existsSync(KUBECTL) ? false : `${KUBECTL} is absent: the kubectl end-to-end tests need the image's kubectl v1.32`;

export interface Kubectl {
  (args: string[], options?: { uid?: number; env?: Record<string, string> }): Promise<Run>;
  start(args: string[]): ReturnType<typeof startProgram>;
}

/** kubectl with the project's kubeconfig; a cache and HOME of its own per uid, in the (world-readable) test dir. */
export function kubectlIn(dir: string, kubeconfig: string): Kubectl {
  const env = (uid: number | undefined, extra: Record<string, string> = {}) => {
    const home = join(dir, `home-${uid ?? 'root'}`);
    if (!existsSync(home)) {
      mkdirSync(home);
      chmodSync(home, 0o777);
    }
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...extra };
  };
  const argv = (args: string[], uid?: number) => ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, `home-${uid ?? 'root'}`, 'cache'), ...args];
  const run: Kubectl = ((args, options = {}) =>
    startProgram(KUBECTL, argv(args, options.uid), { env: env(options.uid, options.env), ...(options.uid === undefined ? {} : { uid: options.uid }) }).done) as Kubectl;
  run.start = (args) => startProgram(KUBECTL, argv(args), { env: env(undefined) }, 60_000);
  return run;
}

export function succeeded(run: Run, what: string): string {
  assert.equal(run.code, 0, `${what} failed: ${run.stderr}${run.stdout}`);
  return run.stdout;
}
