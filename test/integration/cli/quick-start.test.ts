// The README's quick start in a terminal (util-linux `script` gives both programs a pty): slvd
// logs readable lines, not JSON, and slvctl prints a coloured, aligned table; the same slvd
// without a terminal, or with --log-format json, logs JSON lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { EXAMPLE_PLC_FILE } from '../../../controller/daemon/config.js';
import { tempDir } from '../../support/runtime-helpers.js';
import { readStatus, waitForOutput, waitForStatus, type Daemon } from '../../support/slvd-process.js';
import { SLVCTL } from '../../support/slvctl-harness.js';

const SLVD = fileURLToPath(new URL('../../../bin/slvd.js', import.meta.url));

/** `command` run by `script` in a pseudo-terminal; the shell quoting is ours, the arguments fixed. */
function inTerminal(t: TestContext, command: string[], env: Record<string, string> = {}): Daemon {
  const line = command.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const { NO_COLOR: _noColour, ...inherited } = process.env;
  const child = spawn('script', ['-qfec', `exec ${line}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...inherited, TERM: 'xterm', ...env }, cwd: '/' });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output, exited };
}

function slvdArgs(dataDir: string, extra: string[] = []): string[] {
  return [SLVD, '--data-dir', dataDir, '--plc-file', EXAMPLE_PLC_FILE, '--period', '3600', '--xmlrpc-port', '0', '--xmlrpc-socket', join(dataDir, 'sliver_mgr.api'), ...extra];
}

/** SIGTERM to slvd itself (its pid from status.json); registered for after the test before it starts. */
function stopSlvd(dataDir: string): void {
  const pid = readStatus(dataDir)?.pid;
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

test('quick start in a terminal: readable slvd lines, a coloured aligned table from slvctl', { timeout: 120_000 }, async (t) => {
  const dataDir = tempDir(t, 'slv-quick-start-');
  t.after(() => stopSlvd(dataDir));
  const slvd = inTerminal(t, [process.execPath, ...slvdArgs(dataDir)]);
  await waitForStatus(dataDir, slvd, (s) => s.ready && s.slivers.ready === 4, 'the example slivers are Ready');
  await waitForOutput(slvd, /4\/4 slivers Ready/);

  const slvctl = inTerminal(t, [process.execPath, SLVCTL, 'get', 'sl'], { SLV_SERVER: join(dataDir, 'api.sock') });
  assert.equal(await slvctl.exited, 0, slvctl.output());
  const table = slvctl.output().split('\r\n');
  assert.match(table[0]!, /^NAME\s+READY\s+STATUS\s+XID\s+INSTANTIATION\s+AGE$/);
  assert.match(table[1]!, /^\S+\s+\u001b\[32mTrue\u001b\[0m\s+Running\s+\d+\s/, 'Ready in green, on a terminal');

  stopSlvd(dataDir);
  assert.equal(await slvd.exited, 0, slvd.output());
  const lines = slvd.output().trimEnd().split('\r\n');
  assert.ok(lines.length >= 3, slvd.output());
  for (const line of lines) assert.match(line, /^\u001b\[90m\d\d:\d\d:\d\d\.\d{3}\u001b\[0m \u001b\[\d+m(INFO |WARN |ERROR)\u001b\[0m /, `a readable line: ${JSON.stringify(line)}`);
  assert.ok(
    lines.some((l) => /slvd started .*adapter=.*sim/.test(l)),
    slvd.output(),
  );
  assert.ok(
    lines.some((l) => /\[plc\]/.test(l)),
    'the component is named in brackets',
  );
  assert.ok(lines.some((l) => / slvd stopped$/.test(l)));
});

test('--log-format json logs JSON lines even on a terminal', { timeout: 120_000 }, async (t) => {
  const dataDir = tempDir(t, 'slv-json-log-');
  t.after(() => stopSlvd(dataDir));
  const slvd = inTerminal(t, [process.execPath, ...slvdArgs(dataDir, ['--log-format', 'json'])]);
  await waitForOutput(slvd, /slvd started/);
  stopSlvd(dataDir);
  assert.equal(await slvd.exited, 0, slvd.output());
  for (const line of slvd.output().trimEnd().split('\r\n')) assert.equal(typeof (JSON.parse(line) as { msg?: unknown }).msg, 'string', line);
});
