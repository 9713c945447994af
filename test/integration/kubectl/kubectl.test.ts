// The real kubectl (/usr/bin/kubectl, a client nobody here wrote) against a real slvd (sim node,
// the example GetSlivers file) on its loopback TCP listener and on its HTTPS listener with bearer
// tokens, through the kubeconfigs `slvctl config kubeconfig` writes: docs/kubectl.md, what it shows working.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { get } from 'node:https';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnSlvd, waitForOutput, waitForStatus } from '../../support/slvd-process.js';
import { slvctl, startProgram } from '../../support/slvctl-harness.js';
import { kubectlIn, kubectlMissing, succeeded, type Kubectl } from '../../support/kubectl.js';
import { freePort } from '../../support/xmlrpc-harness.js';
import { makeCertificate } from '../../support/plc-stand-in.js';
import { parse as parseYaml } from 'yaml';

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
  assert.match(explained, /^ {2}rspec\s+<Object> -required-\n {4}The resources the sliver is given/m);
  const rate = succeeded(await kubectl(['explain', 'sliver.spec.rspec.net_max']), 'explain sliver.spec.rspec.net_max');
  assert.match(rate, /^DESCRIPTION:\n {4}Outbound ceiling, bit\/s\./m);

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
  // Without --type kubectl sends a strategic merge patch: 415, naming what works.
  const strategic = await kubectl(['patch', 'sl', 'mit_ron', '-p', '{"metadata":{"labels":{"team":"ops"}}}']);
  assert.notEqual(strategic.code, 0);
  assert.match(
    strategic.stderr,
    /the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml \(a strategic merge patch needs .*: use kubectl patch --type merge or --type json\)/,
  );
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

const newToken = () => randomBytes(32).toString('hex');

function httpsGet(port: number, path: string, ca: Buffer): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('kubectl over HTTPS: bearer tokens name the caller, authorized as its uid on the Unix socket; 401 without; tokens re-read on SIGHUP', { timeout: 120_000 }, async (t) => {
  if (kubectlMissing) {
    t.skip(kubectlMissing);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'slv-kubectl-https-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { certFile, keyFile } = makeCertificate(t, 'slvd');
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const rootToken = newToken();
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `# token,user,uid\n${rootToken},root,0\n`, { mode: 0o600 });
  const configFile = join(dir, 'slvd.yaml');
  writeFileSync(configFile, `apiHttps:\n  port: ${port}\n  address: 127.0.0.1\n  cert: ${certFile}\n  key: ${keyFile}\n  tokenFile: ${tokenFile}\n`);
  const daemon = spawnSlvd(t, ['--data-dir', dataDir, '--config', configFile]);
  await waitForStatus(dataDir, daemon, (s) => s.ready && s.slivers.total > 0, 'slvd is ready');
  assert.doesNotMatch(daemon.output(), new RegExp(rootToken), 'a token was logged');

  const socket = join(dataDir, 'api.sock');
  /** A kubectl whose kubeconfig `slvctl config kubeconfig --https` wrote for `token`. */
  const kubectlWith = async (name: string, token: string): Promise<Kubectl> => {
    const file = join(dir, `${name}.token`);
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const listener = ['--https', '--port', String(port), '--certificate-authority', certFile, '--token-file', file];
    const kubeconfig = join(dir, `${name}.kubeconfig`);
    writeFileSync(kubeconfig, succeeded(await slvctl(['config', 'kubeconfig', ...listener], { socket }), 'slvctl config kubeconfig --https'), { mode: 0o600 });
    return kubectlIn(dir, kubeconfig);
  };
  const asRoot = await kubectlWith('root', rootToken);
  assert.match(succeeded(await asRoot(['get', 'sl']), 'get sl over HTTPS'), /^mit_ron\s+True\s+Running\s/m);
  assert.match(succeeded(await asRoot(['api-resources']), 'api-resources over HTTPS'), /^slivers\s+sl\s/m);

  // slvctl config view redacts as kubectl config view does: the same document.
  const view = succeeded(await slvctl(['config', 'view', '--https', '--port', String(port), '--certificate-authority', certFile, '--token-file', join(dir, 'root.token')], { socket }), 'config view');
  assert.doesNotMatch(view, new RegExp(rootToken));
  assert.match(view, /token: REDACTED/);
  assert.deepEqual(parseYaml(view), parseYaml(succeeded(await asRoot(['config', 'view']), 'kubectl config view')));
  assert.match(succeeded(await slvctl(['config', 'view'], { socket }), 'config view of slvctl'), new RegExp(`server: unix://${socket}`));

  // No token or an unknown one: 401 for everything but the health checks.
  const stranger = await kubectlWith('stranger', newToken());
  const refused = await stranger(['get', 'sl']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /You must be logged in to the server \(the bearer token is not known\)/);
  assert.equal(succeeded(await stranger(['get', '--raw', '/healthz']), 'healthz without a valid token'), 'ok\n');
  // Without a token kubectl would prompt for a password: asked directly, discovery is refused too.
  for (const path of ['/apis/nm.planet-lab.org/v1/slivers', '/openapi/v3', '/apis']) {
    const answer = await httpsGet(port, path, readFileSync(certFile));
    assert.equal(answer.code, 401, path);
    assert.deepEqual(JSON.parse(answer.body), {
      apiVersion: 'v1',
      kind: 'Status',
      status: 'Failure',
      message: 'this listener needs an "Authorization: Bearer" token',
      reason: 'Unauthorized',
      code: 401,
    });
  }

  // A sliver's token, added while slvd runs (SIGHUP re-reads the file): its own sliver only, as its uid on the socket.
  const uid = Number(succeeded(await asRoot(['get', 'sl', 'mit_ron', '-o', 'jsonpath={.status.xid}']), 'get xid'));
  const sliverToken = newToken();
  const misnamedToken = newToken();
  appendFileSync(tokenFile, `${sliverToken},mit_ron,${uid}\n${misnamedToken},pl_netflow,${uid}\n`);
  daemon.child.kill('SIGHUP');
  await waitForOutput(daemon, /API tokens re-read/);
  const asSliver = await kubectlWith('mit_ron', sliverToken);
  assert.match(succeeded(await asSliver(['get', 'sl', '-o', 'name']), 'get sl as mit_ron'), /^sliver\.nm\.planet-lab\.org\/mit_ron\n$/);
  const forbidden = await asSliver(['get', 'sl', 'pl_netflow']);
  assert.match(forbidden.stderr, /Error from server \(Forbidden\): user "mit_ron" \(uid \d+\) may not read sliver "pl_netflow"/);
  // A token whose uid is not the account it names (a uid given to another sliver since) is refused.
  assert.match((await (await kubectlWith('misnamed', misnamedToken))(['get', 'sl', 'pl_netflow'])).stderr, /the token is for "pl_netflow" \(uid \d+\), but uid \d+ is "mit_ron" on this node/);
  assert.doesNotMatch(daemon.output(), new RegExp(`${rootToken}|${sliverToken}|${misnamedToken}`), 'a token was logged');
});
