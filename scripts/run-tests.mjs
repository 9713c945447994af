#!/usr/bin/env node
// `npm test`: runs test/**/*.test.ts with node:test through tsx, tier by tier (docs/testing.md):
//   test/unit/         pure, no processes or sockets: files in parallel
//   test/integration/  processes, sockets, temp dirs, but never host state: files in parallel
//   test/root/         change the host (accounts, /etc/shells, namespaces, nft, cgroups, sshd):
//                      one file at a time, each in its own process; the host state they may touch
//                      is recorded before the tier and compared after it, and a leftover fails the run
// Arguments select files or directories instead (each file runs in the tier it belongs to).
// SIGINT/SIGTERM are forwarded to the running test processes (whose registered cleanups undo what
// they made, test/support/host-cleanup.ts); the runner waits for them, then still checks the host.
// The unit and integration tiers make their temp dirs under the run's own folder (TMPDIR), removed
// when the run ends: node --test ends a file's process on ^C before its own cleanups can run.
// Closing lines: the skipped tests grouped by reason, the host check, and
// `tests: N passed, N failed, N skipped`. With CI=true a skipped root test fails the run.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, constants, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const TIERS = [
  { name: 'unit', concurrency: availableParallelism() },
  { name: 'integration', concurrency: availableParallelism() },
  { name: 'root', concurrency: 1 },
];
/** How long interrupted test processes get to clean up before they are killed. */
const INTERRUPT_GRACE_MS = 60_000;
const REPORTERS = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap'];

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? testFiles(join(dir, entry.name)) : entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : []))
    .sort();
}

const selected = process.argv.length > 2 ? process.argv.slice(2).flatMap((path) => (statSync(path).isDirectory() ? testFiles(resolve(path)) : [resolve(path)])) : testFiles(join(REPO, 'test'));
const tierOf = (file) => relative(join(REPO, 'test'), file).split('/')[0];
const unknown = selected.filter((file) => !TIERS.some((tier) => tier.name === tierOf(file)));
if (unknown.length > 0) {
  console.error(`not in a test tier (test/unit, test/integration, test/root): ${unknown.join(', ')}`);
  process.exit(2);
}

// ---- children and signals --------------------------------------------------------------------

const running = new Set();
let interruptedBy;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interruptedBy) return;
    interruptedBy = signal;
    console.log(`\n# ${signal}: passed on to the running tests; waiting for them to clean up`);
    for (const child of running) {
      child.kill(signal);
      setTimeout(() => child.kill('SIGKILL'), INTERRUPT_GRACE_MS).unref();
    }
  });
}

/**
 * Run node with `args` in its own process group (a terminal's ^C reaches only this runner, which
 * forwards it); resolves with its exit code and, with `capture`, its stdout.
 */
function runNode(args, { capture = false, env = process.env } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'], cwd: REPO, detached: true, env });
    running.add(child);
    let out = '';
    child.stdout?.on('data', (chunk) => (out += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      running.delete(child);
      resolvePromise({ code: code ?? 128 + (constants.signals[signal] ?? 0), out });
    });
  });
}

// ---- results ---------------------------------------------------------------------------------

const totals = { pass: 0, fail: 0, skipped: 0 };
/** reason -> names of the skipped tests (a skipped suite counts as one). */
const skips = new Map();
let rootSkips = 0;
let failedRun = false;

function readTap(file, tier) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    failedRun = true; // the process died before its reporter wrote anything
    return;
  }
  const footer = (key) => Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  totals.pass += footer('pass');
  totals.fail += footer('fail') + footer('cancelled');
  for (const [, name, reason] of text.matchAll(/^\s*ok \d+ - (.*?) # SKIP ?(.*)$/gm)) {
    totals.skipped += 1;
    if (tier === 'root') rootSkips += 1;
    const key = reason || '(no reason given)';
    skips.set(key, [...(skips.get(key) ?? []), name]);
  }
}

// ---- host state ------------------------------------------------------------------------------

const HOST_STATE = ['--import', 'tsx', join(REPO, 'test/support/host-state.ts')];

// ---- the run ---------------------------------------------------------------------------------

const tapDir = mkdtempSync(join(tmpdir(), 'slv-test-'));
// Like /tmp: tests stage files there for clients that run as another uid. The root tier keeps the
// real temp dir: its processes run their cleanups on a signal, and sshd checks the modes of the
// directories above the files it is given.
const scratchDir = join(tapDir, 'tmp');
chmodSync(tapDir, 0o755);
mkdirSync(scratchDir);
chmodSync(scratchDir, 0o1777);
const scratchEnv = { ...process.env, TMPDIR: scratchDir };
let hostCheck;
try {
  for (const tier of TIERS) {
    const files = selected.filter((file) => tierOf(file) === tier.name);
    if (files.length === 0 || interruptedBy) continue;
    console.log(`\n# ${tier.name}: ${files.length} file(s), ${tier.concurrency === 1 ? 'one at a time' : `${tier.concurrency} at a time`}`);
    if (tier.name !== 'root') {
      const tap = join(tapDir, `${tier.name}.tap`);
      const { code } = await runNode(['--import', 'tsx', '--test', `--test-concurrency=${tier.concurrency}`, ...REPORTERS, `--test-reporter-destination=${tap}`, ...files], { env: scratchEnv });
      if (code !== 0) failedRun = true;
      readTap(tap, tier.name);
      continue;
    }
    // Only root can change (or read all of) that state; as another user the root tests skip.
    const isRoot = process.getuid() === 0;
    const before = join(tapDir, 'host-before.json');
    if (isRoot && (await runNode([...HOST_STATE, 'record', before])).code !== 0) throw new Error('could not record the host state before the root tests');
    for (const [index, file] of files.entries()) {
      if (interruptedBy) break;
      const tap = join(tapDir, `root-${index}.tap`);
      if ((await runNode(['--import', 'tsx', ...REPORTERS, `--test-reporter-destination=${tap}`, file])).code !== 0) failedRun = true;
      readTap(tap, tier.name);
    }
    if (!isRoot) continue;
    const check = await runNode([...HOST_STATE, 'check', before], { capture: true });
    hostCheck = check.code === 0 ? 'identical' : check.out.trim() || `the check failed (exit ${check.code})`;
    if (check.code !== 0) failedRun = true;
  }
} finally {
  rmSync(tapDir, { recursive: true, force: true });
}

if (skips.size > 0) {
  console.log(`\nskipped ${totals.skipped}, by reason:`);
  for (const [reason, names] of [...skips.entries()].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`  ${names.length} × ${reason}`);
    for (const name of names) console.log(`      ${name}`);
  }
}
if (process.env.CI === 'true' && rootSkips > 0) {
  console.log(`\nCI: ${rootSkips} root test(s) skipped; CI must run every one (install what the reasons above name)`);
  failedRun = true;
}
if (hostCheck === 'identical') console.log('\nhost check: the host state the root tests may touch is byte-identical to before the root tier');
else if (hostCheck !== undefined) console.log(`\nhost check FAILED: the root tests left the host changed:\n${hostCheck.replace(/^/gm, '  ')}`);
if (interruptedBy) console.log(`\ninterrupted by ${interruptedBy}: the remaining tests did not run`);
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(interruptedBy ? 128 + constants.signals[interruptedBy] : failedRun || totals.fail > 0 ? 1 : 0);
