// The real kubectl (/usr/bin/kubectl, a client nobody here wrote) against a real slvd (sim node,
// the example GetSlivers file) on its loopback TCP listener, through the kubeconfig
// `slvctl config kubeconfig` writes: docs/kubectl.md, what it shows working.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnSlvd, waitForStatus } from '../../support/slvd-process.js';
import { slvctl, startProgram } from '../../support/slvctl-harness.js';
import { kubectlIn, kubectlMissing, succeeded, type Kubectl } from '../../support/kubectl.js';
import { freePort } from '../../support/xmlrpc-harness.js';

const XMLRPC_CLIENT = fileURLToPath(new URL('../../fixtures/xmlrpc-client.py', import.meta.url));

async function startNode(t: TestContext): Promise<{ kubectl: Kubectl; dir: string; dataDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'slv-kubectl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755); // kubectl run as a sliver's uid reads the kubeconfig here
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--api-port', String(port)]);
  await waitForStatus(dataDir, daemon, (s) => s.ready && s.slivers.total > 0 && s.slivers.ready === s.slivers.total, 'every sliver is ready');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, succeeded(await slvctl(['config', 'kubeconfig', '--port', String(port)], { socket: join(dataDir, 'api.sock') }), 'slvctl config kubeconfig'), { mode: 0o644 });
  return { kubectl: kubectlIn(dir, kubeconfig), dir, dataDir };
}

const LOAN = (amount: number) => `apiVersion: nm.planet-lab.org/v1
kind: Loan
metadata:
  name: mit_ron.cpu
spec:
  from: mit_ron
  to: pl_netflow
  resource: cpu_share
  amount: ${amount}
  order: 0
`;

test('kubectl against slvd: discovery, get, explain, apply, server-side apply, patch, edit, watch, delete, authorization, conflicts', { timeout: 180_000 }, async (t) => {
  if (kubectlMissing) {
    t.skip(kubectlMissing);
    return;
  }
  const { kubectl, dir, dataDir } = await startNode(t);

  const resources = succeeded(await kubectl(['api-resources']), 'api-resources');
  for (const [plural, short, kind] of [
    ['slivers', 'sl', 'Sliver'],
    ['delegates', 'dg', 'Delegate'],
    ['loans', 'ln', 'Loan'],
    ['events', 'ev', 'Event'],
  ]) {
    assert.match(resources, new RegExp(`^${plural}\\s+${short}\\s+nm\\.planet-lab\\.org/v1\\s+false\\s+${kind}$`, 'm'));
  }

  const table = succeeded(await kubectl(['get', 'sl']), 'get sl');
  assert.match(table, /^NAME\s+READY\s+STATUS\s+XID\s+INSTANTIATION\s+AGE$/m);
  assert.match(table, /^mit_ron\s+True\s+Running\s+\d+\s+plc-instantiated\s+\S+$/m);
  const wide = succeeded(await kubectl(['get', 'sl', '-o', 'wide']), 'get sl -o wide');
  assert.match(wide, /^NAME\s+READY\s+STATUS\s+XID\s+INSTANTIATION\s+AGE\s+TYPE\s+CPU_SHARE\s+CPU_MIN\s+NET_MAX\s+EXPIRES\s+DELEGATIONS$/m);
  assert.match(wide, /^mit_ron\s.*\spl_monitor$/m);
  const yaml = succeeded(await kubectl(['get', 'sl', 'mit_ron', '-o', 'yaml']), 'get sl NAME -o yaml');
  assert.match(yaml, /^kind: Sliver$/m);
  assert.match(yaml, /^ {2}name: mit_ron$/m);
  const explained = succeeded(await kubectl(['explain', 'sliver.spec']), 'explain sliver.spec');
  assert.match(explained, /^KIND:\s+Sliver$/m);
  assert.match(explained, /^ {2}rspec\s+<Object>/m);

  // Client-side apply: the last-applied annotation tells kubectl what changed.
  const loanFile = join(dir, 'loan.yaml');
  writeFileSync(loanFile, LOAN(4));
  assert.match(succeeded(await kubectl(['apply', '-f', loanFile]), 'apply'), /loan\.nm\.planet-lab\.org\/mit_ron\.cpu created/);
  assert.match(succeeded(await kubectl(['apply', '-f', loanFile]), 'apply again'), /mit_ron\.cpu unchanged/);
  writeFileSync(loanFile, LOAN(5));
  assert.match(succeeded(await kubectl(['apply', '-f', loanFile]), 'apply a change'), /mit_ron\.cpu configured/);
  assert.equal(succeeded(await kubectl(['get', 'ln', 'mit_ron.cpu', '-o', 'jsonpath={.spec.amount}']), 'get ln'), '5');

  // Server-side apply of a field PLC owns: a conflict naming plc, then forced.
  const ssaFile = join(dir, 'ssa.yaml');
  writeFileSync(ssaFile, 'apiVersion: nm.planet-lab.org/v1\nkind: Sliver\nmetadata:\n  name: pl_netflow\nspec:\n  rspec:\n    cpu_share: 30\n');
  const conflict = await kubectl(['apply', '--server-side', '-f', ssaFile]);
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /conflict.*\/spec\/rspec\/cpu_share \(owned by "plc"\)/);
  assert.match(succeeded(await kubectl(['apply', '--server-side', '--force-conflicts', '-f', ssaFile]), 'apply --force-conflicts'), /pl_netflow serverside-applied/);
  assert.equal(succeeded(await kubectl(['get', 'sl', 'pl_netflow', '-o', 'jsonpath={.spec.rspec.cpu_share}']), 'get'), '30');

  // Merge patch, JSON patch, a server-side dry run that writes nothing.
  succeeded(await kubectl(['patch', 'sl', 'mit_ron', '--type', 'merge', '-p', '{"metadata":{"labels":{"team":"net"}}}']), 'patch --type merge');
  succeeded(await kubectl(['patch', 'sl', 'mit_ron', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels/tier","value":"gold"}]']), 'patch --type json');
  const dry = succeeded(
    await kubectl(['patch', 'sl', 'mit_ron', '--type', 'merge', '-p', '{"spec":{"initscript":"dry"}}', '--dry-run=server', '-o', 'jsonpath={.spec.initscript}']),
    'patch --dry-run=server',
  );
  assert.equal(dry, 'dry');
  const labelsAndScript = succeeded(await kubectl(['get', 'sl', 'mit_ron', '-o', 'jsonpath={.metadata.labels.team},{.metadata.labels.tier},{.spec.initscript}']), 'get');
  assert.match(labelsAndScript, /^net,gold,/);
  assert.doesNotMatch(labelsAndScript, /dry$/);

  // kubectl edit round trip, the editor a script.
  const editor = join(dir, 'editor.sh');
  writeFileSync(editor, '#!/bin/sh\nsed -i \'s/^  labels:$/&\\n    edited: "yes"/\' "$1"\n', { mode: 0o755 });
  const beforeEdit = succeeded(await kubectl(['get', 'sl', 'ucb_oceanstore', '-o', 'yaml']), 'get before edit');
  assert.match(succeeded(await kubectl(['edit', 'sl', 'ucb_oceanstore'], { env: { EDITOR: editor } }), 'edit'), /ucb_oceanstore edited/);
  assert.equal(succeeded(await kubectl(['get', 'sl', 'ucb_oceanstore', '-o', 'jsonpath={.metadata.labels.edited}']), 'get after edit'), 'yes');

  // A stale resourceVersion: replacing with what was read before the edit is a Conflict.
  const stale = join(dir, 'stale.yaml');
  writeFileSync(stale, beforeEdit);
  const replaced = await kubectl(['replace', '-f', stale]);
  assert.notEqual(replaced.code, 0);
  assert.match(replaced.stderr, /Error from server \(Conflict\).*the object has been modified/);

  // get -w sees a change made through XML-RPC (Stop, as root on the shim's socket).
  const watch = kubectl.start(['get', 'sl', 'princeton_codeen', '-w']);
  t.after(() => watch.kill());
  await watch.until(/^princeton_codeen\s+True\s+Running/m);
  const calls = JSON.stringify([{ method: 'Stop', params: ['princeton_codeen'] }]);
  const stop = await startProgram('python3', [XMLRPC_CLIENT, `unix:${join(dataDir, 'sliver_mgr.api')}`], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, input: calls }).done;
  assert.deepEqual(JSON.parse(succeeded(stop, 'XML-RPC Stop')), [{ result: 1 }]);
  await watch.until(/^princeton_codeen\s+\S+\s+Stopped\s/m);
  watch.kill();

  assert.match(succeeded(await kubectl(['delete', 'ln', 'mit_ron.cpu']), 'delete ln'), /loan\.nm\.planet-lab\.org "mit_ron\.cpu" deleted/);
  assert.match((await kubectl(['get', 'ln', 'mit_ron.cpu'])).stderr, /Error from server \(NotFound\): loan "mit_ron\.cpu" not found/);

  // A sliver's own uid: its own sliver only; another's is Forbidden.
  if (process.getuid?.() !== 0) {
    t.diagnostic('not root: kubectl as a sliver uid was not tried');
    return;
  }
  const uid = Number(succeeded(await kubectl(['get', 'sl', 'mit_ron', '-o', 'jsonpath={.status.xid}']), 'get xid'));
  assert.match(succeeded(await kubectl(['get', 'sl', '-o', 'name'], { uid }), 'get sl as mit_ron'), /^sliver\.nm\.planet-lab\.org\/mit_ron\n$/);
  const forbidden = await kubectl(['get', 'sl', 'pl_netflow'], { uid });
  assert.notEqual(forbidden.code, 0);
  assert.match(forbidden.stderr, /Error from server \(Forbidden\): .*mit_ron.*may not read sliver "pl_netflow"/);
});
