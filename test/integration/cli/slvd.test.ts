// slvctl against slvd, both real processes: slvd (sim node, the example GetSlivers file) brings the
// example slivers to Ready; slvctl waits for that, lists, describes, stops one and deletes one
// through the account controller's finalizer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { slvctl } from '../../support/slvctl-harness.js';

const SLVD = fileURLToPath(new URL('../../../bin/slvd.js', import.meta.url));
const EXAMPLE_PLC_FILE = fileURLToPath(new URL('../../../examples/getslivers.json', import.meta.url));

test('slvctl drives slvd: wait for Ready, get, describe, stop, delete', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'slv-slvctl-slvd-'));
  const socket = join(dataDir, 'api.sock');
  const daemon = spawn(
    process.execPath,
    [
      SLVD,
      '--data-dir',
      dataDir,
      '--plc-file',
      EXAMPLE_PLC_FILE,
      '--period',
      '3600',
      '--xmlrpc-port',
      '0',
      '--xmlrpc-socket',
      join(dataDir, 'sliver_mgr.api'),
      '--xmlrpc-legacy-socket',
      'none',
      '--log-level',
      'info',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const started = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('slvd started')) resolve();
    };
    daemon.stdout.on('data', onData);
    daemon.stderr.on('data', onData);
    daemon.once('exit', (code) => reject(new Error(`slvd exited (${code}) before starting:\n${log}`)));
  });
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', resolve));
  t.after(() => {
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  await started;
  const run = (args: string[]) => slvctl(args, { socket });

  const ready = await run(['wait', 'sl', 'princeton_codeen', '--for=condition=Ready', '--timeout=60s']);
  assert.equal(ready.code, 0, `${ready.stderr}\n${log}`);
  assert.equal(ready.stdout, 'sliver/princeton_codeen condition met (condition Ready=True)\n');

  const described = await run(['describe', 'sl', 'princeton_codeen']);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /^\s+cpu_share\s+64\s+64$/m, 'PLC rspec and effective rspec side by side');
  assert.match(described.stdout, /^\s+Ready\s+True\s/m);
  const table = await run(['get', 'sl', 'princeton_codeen']);
  assert.match(table.stdout, /^princeton_codeen\s+True\s+Running\s+\d+\s+plc-instantiated\s/m, table.stdout);

  const stop = join(dataDir, 'stop.yaml');
  writeFileSync(stop, 'apiVersion: nm.planet-lab.org/v1\nkind: Sliver\nmetadata: {name: princeton_codeen}\nspec:\n  run: {state: Stopped}\n');
  const stopped = await run(['apply', '-f', stop]);
  assert.equal(stopped.stdout, 'sliver/princeton_codeen configured\n', stopped.stderr);
  const again = await run(['apply', '-f', stop]);
  assert.equal(again.stdout, 'sliver/princeton_codeen unchanged\n', again.stderr);
  const notReady = await run(['wait', 'sl', 'princeton_codeen', '--for=condition=Ready=False', '--timeout=60s']);
  assert.equal(notReady.code, 0, `${notReady.stderr}\n${log}`);
  const afterStop = await run(['describe', 'sl', 'princeton_codeen']);
  assert.match(afterStop.stdout, /^\s+Running:\s+no$/m, 'the account controller stopped it before reporting Ready=False');

  // loans set prints the controllers' decision on each loan; one not granted exits 1.
  const granted = await run(['loans', 'set', 'princeton_codeen', 'mit_ron:cpu_share:10']);
  assert.equal(granted.code, 0, `${granted.stderr}\n${log}`);
  assert.equal(granted.stdout, 'sliver "princeton_codeen": 1 loan(s) set\nloan/princeton_codeen.0  mit_ron:cpu_share:10  granted\n');
  const refused = await run(['loans', 'set', 'princeton_codeen', 'mit_ron:cpu_share:10', 'mit_ron:cpu_share:1000', 'nobody:cpu_share:1', '--timeout=60s']);
  assert.equal(refused.code, 1, `${refused.stdout}${refused.stderr}`);
  const lines = refused.stdout.split('\n');
  assert.equal(lines.length, 5, `one line per loan, no repeats:\n${refused.stdout}`);
  assert.equal(lines[0], 'sliver "princeton_codeen": 3 loan(s) set');
  assert.equal(lines[1], 'loan/princeton_codeen.0  mit_ron:cpu_share:10    granted');
  assert.match(lines[2]!, /^loan\/princeton_codeen\.1  mit_ron:cpu_share:1000  not granted: InsufficientResidual \(.+\)$/);
  assert.match(lines[3]!, /^loan\/princeton_codeen\.2  nobody:cpu_share:1      not granted: UnknownTarget \(.+\)$/);
  assert.equal(refused.stderr, 'error: 2 of 3 loan(s) not granted\n');
  const cleared = await run(['loans', 'set', 'princeton_codeen']);
  assert.deepEqual([cleared.code, cleared.stdout], [0, 'sliver "princeton_codeen": 0 loan(s) set, 3 removed\n'], cleared.stderr);

  const deleted = await run(['delete', 'sl', 'mit_ron', '--timeout=60s']);
  assert.equal(deleted.code, 0, `${deleted.stderr}\n${log}`);
  assert.equal(deleted.stdout, 'sliver "mit_ron" deleted\n');
  assert.match(deleted.stderr, /^Warning: sliver "mit_ron" is managed by PLC: the next PLC sync creates it again/, 'PLC will bring it back: said on stderr');
  const gone = await run(['get', 'sl', 'mit_ron']);
  assert.equal(gone.code, 4);
  const why = await run(['events', '--for', 'sliver/mit_ron', '-o', 'custom-columns=REASON:.spec.reason,MESSAGE:.spec.message', '--no-headers']);
  assert.match(why.stdout, /^Deleted\s+sliver mit_ron deleted by the API caller root \(uid 0\)$/m, `its Events outlive it and say who deleted it:\n${why.stdout}${why.stderr}`);
  assert.match(why.stdout, /^AccountDestroyed\s/m);

  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, log);
  const down = await run(['get', 'sl']);
  assert.equal(down.code, 3, 'slvd is down');
  assert.match(down.stderr, /^error: cannot connect to slvd/);
});
