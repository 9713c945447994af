// Undoing what a test does to the host (accounts, /etc/shells lines, namespaces, cgroups, daemons).
// A fixture registers its cleanup BEFORE it creates the state, so a failure halfway still undoes
// what was made. A cleanup runs once: when the fixture releases it (normally in an after hook) or,
// if the test process is interrupted (SIGINT/SIGTERM, which scripts/run-tests.mjs forwards), all
// pending ones, newest first, before the process exits.
import { constants } from 'node:os';

type Cleanup = () => unknown;

const pending: Array<{ what: string; cleanup: Cleanup }> = [];
let handlersInstalled = false;

async function runPendingAndExit(signal: NodeJS.Signals): Promise<void> {
  for (let entry = pending.pop(); entry; entry = pending.pop()) {
    try {
      await entry.cleanup();
    } catch (error) {
      process.stderr.write(`cleanup of ${entry.what} after ${signal} failed: ${(error as Error).message}\n`);
    }
  }
  process.exit(128 + constants.signals[signal]);
}

/** Register `cleanup` of `what` (for messages); returns the release that runs it once, now. */
export function registerCleanup(what: string, cleanup: Cleanup): () => Promise<void> {
  if (!handlersInstalled) {
    handlersInstalled = true;
    // Kept installed: a second signal while the cleanups run must not end the process halfway.
    let cleaning = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (!cleaning) void runPendingAndExit(signal);
        cleaning = true;
      });
    }
  }
  const entry = { what, cleanup };
  pending.push(entry);
  return async () => {
    const index = pending.indexOf(entry);
    if (index < 0) return;
    pending.splice(index, 1);
    await cleanup();
  };
}
