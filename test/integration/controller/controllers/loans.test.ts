// Effective rspecs and loans through the real rspec controller, store and runtime: every scenario of
// the original's loan vectors replayed op by op, and property tests of the loan invariants (pure and
// through the controller's incremental recompute).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeEffectiveRSpecs, fullRSpec, isLoanable, LOAN_MINIMUM, type LoanInput } from '../../../../resources/rspec.js';
import { InvalidError } from '../../../../resources/errors.js';
import type { Store } from '../../../../adapters/store/contract.js';
import { API_VERSION, LOANABLE_RESOURCES, type Loan, type RSpec, type SliverSpec } from '../../../../schemas/types.js';
import { join } from 'node:path';
import { openSqliteStore } from '../../../../adapters/store/sqlite.js';
import { createSliver, FakeClock, loanName, removeTempDirs, setLoans, startDaemon, tempDir, type Daemon } from '../../../support/controllers-harness.js';
import { loadLoanVectors } from '../../../support/reference-vectors.js';

after(removeTempDirs);

// ---- the original's vectors ---------------------------------------------------------------------

interface VectorRecord {
  name: string;
  type: string;
  instantiation: SliverSpec['instantiation'];
  keys: string;
  initscript: string;
  rspec: RSpec;
  expires?: number;
  timestamp: number;
  _loans?: Array<[string, string, number]>;
  _rspec?: RSpec;
}
type LoanTuple = [string, string, string, number];
interface VectorStep {
  op: string;
  fault?: { code: number; string: string };
  result?: { applied: LoanTuple[]; rejected: LoanTuple[]; expired: string[] };
  state: { records: Record<string, VectorRecord> };
}
interface Scenario {
  name: string;
  initial: { records: Record<string, VectorRecord> };
  ops: Array<{ op: 'sync' | 'set_loans'; now: number; name?: string; loans?: unknown }>;
  results: Record<string, { trace: VectorStep[] }>;
}

/** A JSON float (1.0) the way an XML-RPC <double> arrives: a number-like value that is not an integer. */
const vectors = loadLoanVectors() as { scenarios: Scenario[] };

function specOf(record: VectorRecord): Partial<SliverSpec> {
  return {
    type: record.type,
    instantiation: record.instantiation,
    keys: record.keys ? record.keys.split('\n') : [],
    initscript: record.initscript,
    rspec: record.rspec,
    timestamp: record.timestamp,
    ...(record.expires === undefined ? {} : { expires: record.expires }),
  };
}

function tupleText(tuples: readonly LoanTuple[]): string[] {
  return tuples.map((t) => JSON.stringify(t)).sort();
}

async function loanTuples(store: Store, granted: boolean): Promise<LoanTuple[]> {
  return (await store.list('Loan')).items.filter((l) => l.status?.granted === granted).map((l) => [l.spec.from, l.spec.to, l.spec.resource, l.spec.amount]);
}

/** Compare the store with one step of the trace. `vanished` = names expired so far (their loans are gone in slv). */
async function assertMatches(daemon: Daemon, step: VectorStep, vanished: ReadonlySet<string>, where: string): Promise<void> {
  const { store } = daemon;
  const slivers = (await store.list('Sliver')).items;
  assert.deepEqual(slivers.map((s) => s.metadata.name).sort(), Object.keys(step.state.records).sort(), `${where}: slivers`);
  for (const sliver of slivers) {
    assert.deepEqual(sliver.status?.effectiveRSpec, step.state.records[sliver.metadata.name]?._rspec, `${where}: effective rspec of ${sliver.metadata.name}`);
  }
  if (!step.result) return;
  assert.deepEqual(tupleText(await loanTuples(store, true)), tupleText(step.result.applied), `${where}: granted loans`);
  // slv cannot store a loan of a resource that is not loanable, and deletes loans to expired slivers.
  const expectedRejected = step.result.rejected.filter(([, to, resource]) => isLoanable(resource) && !vanished.has(to));
  assert.deepEqual(tupleText(await loanTuples(store, false)), tupleText(expectedRejected), `${where}: refused loans`);
  for (const loan of (await store.list('Loan')).items.filter((l) => l.status?.granted === false)) {
    const expected = step.state.records[loan.spec.to] ? 'InsufficientResidual' : 'UnknownTarget';
    assert.equal(loan.status?.reason, expected, `${where}: reason for ${loan.metadata.name}`);
  }
}

for (const scenario of vectors.scenarios) {
  test(`loan vectors: ${scenario.name}`, { timeout: 30_000 }, async () => {
    const [trace] = Object.values(scenario.results).map((r) => r.trace);
    assert.ok(trace && trace.length === scenario.ops.length, 'one trace step per op');
    const clock = new FakeClock((scenario.ops[0]?.now ?? 0) * 1000);
    const daemon = await startDaemon({ clock });
    try {
      const { store } = daemon;
      for (const record of Object.values(scenario.initial.records)) await createSliver(store, record.name, specOf(record));
      for (const record of Object.values(scenario.initial.records)) {
        for (const [order, [to, resource, amount]] of (record._loans ?? []).entries()) {
          const loan = { apiVersion: API_VERSION, kind: 'Loan', metadata: { name: loanName(record.name, order) }, spec: { from: record.name, to, resource, amount, order } } as Loan;
          if (isLoanable(resource)) {
            await store.create(loan);
          } else {
            // The original kept it and skipped it (unknown target); slv refuses to store it at all.
            await assert.rejects(store.create(loan), InvalidError);
            assert.ok(tupleText(trace[0]?.result?.rejected ?? []).includes(JSON.stringify([record.name, to, resource, amount])));
          }
        }
      }
      await daemon.settle();

      const vanished = new Set<string>();
      for (const [index, op] of scenario.ops.entries()) {
        const step = trace[index] as VectorStep;
        const where = `${scenario.name} op ${index} (${op.op} at ${op.now})`;
        const before = new Set((await store.list('Sliver')).items.map((s) => s.metadata.name));
        if (op.now * 1000 > clock.now()) clock.advance(op.now * 1000 - clock.now());
        if (op.op === 'set_loans') {
          const accepted = await setLoans(store, op.name as string, op.loans);
          assert.equal(accepted, step.fault === undefined, `${where}: validation`);
          if (step.fault) assert.equal(step.fault.code, 102);
        }
        await daemon.settle();
        const after = new Set((await store.list('Sliver')).items.map((s) => s.metadata.name));
        const expired = [...before].filter((name) => !after.has(name));
        expired.forEach((name) => vanished.add(name));
        if (step.result) assert.deepEqual(expired.sort(), [...step.result.expired].sort(), `${where}: expired`);
        await assertMatches(daemon, step, vanished, where);
      }
    } finally {
      await daemon.stop();
    }
  });
}

test('each Loan status says whether it was granted and why not', { timeout: 30_000 }, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store } = daemon;
  await createSliver(store, 'lender', { rspec: { cpu_share: 40 } });
  await createSliver(store, 'taker');
  await setLoans(store, 'lender', [
    ['taker', 'cpu_share', 20],
    ['taker', 'cpu_share', 5],
    ['ghost', 'cpu_share', 1],
  ]);
  await setLoans(store, 'nobody', [['taker', 'net_share', 0]]); // the API would refuse; the store holds it
  await daemon.settle();
  const status = async (name: string) => (await store.get('Loan', name)).status;
  assert.deepEqual(await status('lender.0'), { observedGeneration: 1, granted: true, reason: 'Granted', message: '20 cpu_share lent to "taker"' });
  assert.deepEqual(await status('lender.1'), { observedGeneration: 1, granted: false, reason: 'InsufficientResidual', message: '5 cpu_share exceeds what "lender" can still lend (4)' });
  assert.deepEqual(await status('lender.2'), { observedGeneration: 1, granted: false, reason: 'UnknownTarget', message: 'target sliver "ghost" does not exist' });
  assert.deepEqual(await status('nobody.0'), { observedGeneration: 1, granted: false, reason: 'UnknownLender', message: 'lender sliver "nobody" does not exist' });
  assert.equal((await store.get('Sliver', 'taker')).status?.effectiveRSpec?.cpu_share, 32 + 20);

  // The ghost appears: the refused loan is now judged on the lender's residual (4 left, 1 asked).
  await createSliver(store, 'ghost');
  await daemon.settle();
  assert.equal((await status('lender.2'))?.reason, 'Granted');
  assert.equal((await store.get('Sliver', 'ghost')).status?.effectiveRSpec?.cpu_share, 33);
});

// ---- properties ---------------------------------------------------------------------------------

const NAMES = ['s0', 's1', 's2', 's3', 's4', 's5'];
const rspecArbitrary = fc.record({ cpu_share: fc.integer({ min: 0, max: 100 }), net_max: fc.integer({ min: 0, max: 1000 }), cpu_min: fc.integer({ min: 0, max: 200 }) });
const loanArbitrary = fc.record({
  from: fc.constantFrom(...NAMES),
  to: fc.constantFrom(...NAMES, 'ghost'),
  resource: fc.constantFrom('cpu_share', 'net_max', 'cpu_min'),
  amount: fc.integer({ min: 0, max: 60 }),
});
const worldArbitrary = fc.record({
  slivers: fc.dictionary(fc.constantFrom(...NAMES), rspecArbitrary, { minKeys: 1 }),
  loans: fc.array(loanArbitrary, { maxLength: 14 }),
});

function loanInputs(loans: Array<{ from: string; to: string; resource: string; amount: number }>): LoanInput[] {
  const counts = new Map<string, number>();
  return loans.map((loan) => {
    const order = counts.get(loan.from) ?? 0;
    counts.set(loan.from, order + 1);
    return { id: loanName(loan.from, order), order, ...loan };
  });
}

test('properties: resources are conserved, lenders keep their minimums, lender order is irrelevant', { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(worldArbitrary, fc.integer(), ({ slivers, loans }, seed) => {
      const rspecs = new Map(Object.entries(slivers));
      const inputs = loanInputs(loans);
      const { effective, decisions } = computeEffectiveRSpecs(rspecs, inputs);
      for (const resource of LOANABLE_RESOURCES) {
        const plcTotal = [...rspecs.values()].reduce((sum, r) => sum + fullRSpec(r)[resource], 0);
        const effectiveTotal = [...effective.values()].reduce((sum, r) => sum + r[resource], 0);
        assert.equal(effectiveTotal, plcTotal, `${resource} conserved`);
      }
      for (const [lender, rspec] of rspecs) {
        for (const resource of LOANABLE_RESOURCES) {
          const lent = inputs.filter((l) => l.from === lender && l.resource === resource && decisions.get(l.id)?.granted).reduce((sum, l) => sum + l.amount, 0);
          if (lent > 0) assert.ok(fullRSpec(rspec)[resource] - lent >= LOAN_MINIMUM[resource], `${lender} keeps its ${resource} minimum`);
        }
      }
      // Visit lenders (and slivers) in another order: per-lender order is kept by `order`.
      const shuffled = fc.sample(fc.shuffledSubarray(inputs, { minLength: inputs.length }), { seed, numRuns: 1 })[0] ?? inputs;
      const reversed = new Map([...rspecs].reverse());
      const again = computeEffectiveRSpecs(reversed, shuffled);
      assert.deepEqual(new Map([...again.effective].sort()), new Map([...effective].sort()));
      assert.deepEqual(new Map([...again.decisions].sort()), new Map([...decisions].sort()));
    }),
    { numRuns: 300 },
  );
});

const changeArbitrary = fc.oneof(
  fc.record({ kind: fc.constant('setLoans' as const), from: fc.constantFrom(...NAMES), loans: fc.array(loanArbitrary, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('rspec' as const), name: fc.constantFrom(...NAMES), rspec: rspecArbitrary }),
  fc.record({ kind: fc.constant('delete' as const), name: fc.constantFrom(...NAMES) }),
);
type WorldChange = typeof changeArbitrary extends fc.Arbitrary<infer T> ? T : never;

async function storeWorld(store: Store, { slivers, loans }: { slivers: Record<string, Partial<RSpec>>; loans: Parameters<typeof loanInputs>[0] }): Promise<void> {
  for (const [name, rspec] of Object.entries(slivers)) await createSliver(store, name, { rspec });
  for (const loan of loanInputs(loans)) {
    await store.create<Loan>({
      apiVersion: API_VERSION,
      kind: 'Loan',
      metadata: { name: loan.id },
      spec: { from: loan.from, to: loan.to, resource: loan.resource as Loan['spec']['resource'], amount: loan.amount, order: loan.order },
    });
  }
}

async function applyChange(store: Store, step: WorldChange): Promise<void> {
  if (step.kind === 'setLoans')
    await setLoans(
      store,
      step.from,
      step.loans.map((l) => [l.to, l.resource, l.amount]),
    );
  else if (step.kind === 'delete') await store.delete('Sliver', step.name).catch(() => undefined);
  else {
    const sliver = await store.tryGet('Sliver', step.name);
    if (sliver) await store.update({ ...sliver, spec: { ...sliver.spec, rspec: step.rspec } });
    else await createSliver(store, step.name, { rspec: step.rspec });
  }
}

test("property: the controller's incremental recompute equals the full computation after every change", { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(worldArbitrary, fc.array(changeArbitrary, { maxLength: 5 }), async (world, changes) => {
      const daemon = await startDaemon();
      try {
        const { store } = daemon;
        await storeWorld(store, world);
        await daemon.settle();
        await assertAgreesWithFullComputation(store);
        for (const step of changes) {
          await applyChange(store, step);
          await daemon.settle();
          await assertAgreesWithFullComputation(store);
        }
      } finally {
        await daemon.stop();
      }
    }),
    { numRuns: 15 },
  );
});

// The informer's first list queues each sliver and each lender for itself, not their neighbourhoods.
test('property: a daemon started on stored slivers and loans, and restarted after changes made while it was down, agrees with the full computation', { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(worldArbitrary, fc.array(changeArbitrary, { minLength: 1, maxLength: 5 }), async (world, changes) => {
      const dir = tempDir();
      await whileDown(dir, (store) => storeWorld(store, world));
      await startSettleAndCheck(dir);
      await whileDown(dir, async (store) => {
        for (const step of changes) await applyChange(store, step);
      });
      await startSettleAndCheck(dir);
    }),
    { numRuns: 10 },
  );
});

/** Change the store in `dir` with no daemon running. */
async function whileDown(dir: string, change: (store: Store) => Promise<void>): Promise<void> {
  const store = openSqliteStore(join(dir, 'store.db'));
  try {
    await change(store);
  } finally {
    await store.close();
  }
}

/** Start a daemon on `dir`, let it settle, check every decision and effective rspec, stop it. */
async function startSettleAndCheck(dir: string): Promise<void> {
  const daemon = await startDaemon({ dir });
  try {
    await daemon.settle();
    await assertAgreesWithFullComputation(daemon.store);
  } finally {
    await daemon.stop();
  }
}

async function assertAgreesWithFullComputation(store: Store): Promise<void> {
  const slivers = (await store.list('Sliver')).items;
  const loans = (await store.list('Loan')).items;
  const { effective, decisions } = computeEffectiveRSpecs(
    new Map(slivers.map((s) => [s.metadata.name, s.spec.rspec])),
    loans.map((l) => ({ id: l.metadata.name, ...l.spec })),
  );
  for (const sliver of slivers) assert.deepEqual(sliver.status?.effectiveRSpec, effective.get(sliver.metadata.name), `effective rspec of ${sliver.metadata.name}`);
  for (const loan of loans) {
    const decision = decisions.get(loan.metadata.name);
    assert.deepEqual({ granted: loan.status?.granted, reason: loan.status?.reason }, { granted: decision?.granted, reason: decision?.reason }, `decision of ${loan.metadata.name}`);
  }
}
