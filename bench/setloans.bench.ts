// SetLoans reliability: Python's xmlrpc.client calls SetLoans on one lender through the XML-RPC
// shim while the real controllers run on the same SQLite store (the rspec controller writes every
// Loan's status after each change, as in slvd). Prints the success rate of 10,000 sequential calls
// and of 8 concurrent clients, and how many stored lists (after any store revision) were none of
// the requested ones. Goal: every call succeeds (the original faulted only on bad input) and no
// list that nobody asked for is ever stored.
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { setupControllers } from '../controller/controllers/index.js';
import { Manager, systemClock } from '../controller/runtime/index.js';
import { ALICE_LOAN_LISTS, listsNotRequested, recordLenderLists } from '../test/support/loan-lists.js';
import { pythonCalls, sliver, startWorld, type Outcome, type ShimWorld } from '../test/support/xmlrpc-harness.js';
import { report } from './report.js';

const BENCH = 'setloans';
const SEQUENTIAL_CALLS = 10_000;
const CLIENTS = 8;
const CALLS_PER_CLIENT = 500;

/** Calls per Python process (the harness gives one 30 s): a client runs its batches one after the other. */
const BATCH = 50;

/** One client: `calls` SetLoans in a row, cycling through the lists from `offset`. */
async function client(world: ShimWorld, offset: number, calls: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let done = 0; done < calls; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, calls - done) }, (_, i) => ({ method: 'SetLoans', params: ['alice', ALICE_LOAN_LISTS[(offset + done + i) % ALICE_LOAN_LISTS.length]!] }));
    outcomes.push(...(await pythonCalls(world, world.unixEndpoint, batch)));
  }
  return outcomes;
}

async function run(world: ShimWorld, name: string, clients: number, callsEach: number): Promise<void> {
  const recorder = recordLenderLists(world.store, 'alice', await world.store.list('Loan'));
  const started = performance.now();
  const outcomes = (await Promise.all(Array.from({ length: clients }, (_, c) => client(world, c, callsEach)))).flat();
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setImmediate(resolve));
  const seen = recorder.stop();
  const faults = outcomes.filter((o) => !('result' in o && o.result === 1));
  const extra = { clients, calls: outcomes.length, goal: 1 };
  report(BENCH, `${name}_success_rate`, (outcomes.length - faults.length) / outcomes.length, 'ratio', extra);
  report(BENCH, `${name}_faults`, faults.length, 'calls', { ...extra, goal: 0, ...(faults.length ? { first: faults[0] } : {}) });
  report(BENCH, `${name}_lists_not_requested`, listsNotRequested(seen, ALICE_LOAN_LISTS).length, 'lists', { ...extra, goal: 0, listsSeen: seen.length });
  report(BENCH, `${name}_rate`, outcomes.length / seconds, 'calls/s', { clients });
}

const world = await startWorld({ systemAccounts: { alice: process.getuid?.() ?? 0 } });
const manager = new Manager({ store: world.store, log: pino({ level: 'silent' }), clock: systemClock, workers: 4, resyncPeriodMs: 0 });
setupControllers(manager, { node: world.node, startup: false, staggerSeconds: 0 });
try {
  for (const name of ['alice', 'bob', 'carol']) await world.store.create(sliver(name));
  await manager.start();
  await run(world, 'sequential', 1, SEQUENTIAL_CALLS);
  await run(world, 'concurrent', CLIENTS, CALLS_PER_CLIENT);
} finally {
  await manager.close();
  await world.close();
}
