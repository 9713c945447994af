// The real kubectl against the fleet API (`slvd --role fleet-api` over a one-member etcd, two sim
// nodes linked by NodeSync): namespaced discovery, `-n NODE`, `-A`, apply into a namespace, nodes
// (docs/kubectl.md "The fleet API"), and the same over HTTPS with bearer tokens.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EtcdCluster, etcdMissing } from '../../support/etcd.js';
import { eventually, sliverYaml, startFleetApi, startFleetNode, stopFleetNode, type InProcessNode } from '../../support/fleet.js';
import { kubectlIn, kubectlMissing, succeeded } from '../../support/kubectl.js';
import { removeTempDirs } from '../../support/controllers-harness.js';
import { slvctl } from '../../support/slvctl-harness.js';
import { makeCertificate } from '../../support/plc-stand-in.js';
import { freePort } from '../../support/xmlrpc-harness.js';

const ROOT = '/kubectl-fleet/';

test(
  'kubectl against the fleet API: api-resources namespaced, -n NODE, -A, apply with a namespace, get nodes, HTTPS with bearer tokens',
  { skip: kubectlMissing || etcdMissing, timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'slv-kubectl-fleet-'));
    chmodSync(dir, 0o755); // kubectl run as another uid reads the kubeconfig here
    const cluster = new EtcdCluster(1);
    const nodes: InProcessNode[] = [];
    t.after(async () => {
      for (const node of nodes) await stopFleetNode(node);
      await cluster.stop();
      removeTempDirs();
      rmSync(dir, { recursive: true, force: true });
    });
    await cluster.start();
    for (const name of ['node7', 'node8']) nodes.push(await startFleetNode(name, cluster.endpoints, ROOT));
    // HTTPS for remote use: tokens for root and for a uid that is neither root nor the fleet API's own.
    const { certFile, keyFile } = makeCertificate(t, 'fleet API');
    const httpsPort = await freePort();
    const rootToken = randomBytes(32).toString('hex');
    const strangerToken = randomBytes(32).toString('hex');
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, `${rootToken},root,0\n${strangerToken},uid-4242,4242\n`, { mode: 0o600 });
    const configFile = join(dir, 'fleet-api.yaml');
    writeFileSync(configFile, `apiHttps: {port: ${httpsPort}, address: 127.0.0.1, cert: ${certFile}, key: ${keyFile}, tokenFile: ${tokenFile}}\n`);
    const api = await startFleetApi(t, join(dir, 'api'), cluster.endpoints, ROOT, ['--config', configFile]);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, succeeded(await slvctl(['config', 'kubeconfig', '--port', String(api.port)], { socket: api.socket }), 'slvctl config kubeconfig'));
    const kubectl = kubectlIn(dir, kubeconfig);

    const resources = succeeded(await kubectl(['api-resources']), 'api-resources');
    assert.match(resources, /^slivers\s+sl\s+nm\.planet-lab\.org\/v1\s+true\s+Sliver$/m);
    assert.match(resources, /^nodes\s+no\s+nm\.planet-lab\.org\/v1\s+false\s+Node$/m);

    const alpha = join(dir, 'alpha.yaml');
    writeFileSync(alpha, sliverYaml('alpha'));
    assert.match(succeeded(await kubectl(['-n', 'node7', 'apply', '-f', alpha]), 'apply -n node7'), /sliver\.nm\.planet-lab\.org\/alpha created/);
    assert.match(succeeded(await kubectl(['-n', 'node7', 'apply', '-f', alpha]), 'apply -n node7 again'), /alpha unchanged/);
    // The manifest names its namespace: no -n needed.
    const beta = join(dir, 'beta.yaml');
    writeFileSync(beta, sliverYaml('beta', 'node8'));
    assert.match(succeeded(await kubectl(['apply', '-f', beta]), 'apply with metadata.namespace'), /sliver\.nm\.planet-lab\.org\/beta created/);

    await eventually('alpha is Ready on node7', async () => /^alpha\s+True\s+Running\s+\d+\s/m.test(succeeded(await kubectl(['-n', 'node7', 'get', 'sl']), 'get -n node7')));
    const everywhere = await eventually('both slivers are Running in get sl -A', async () => {
      const out = succeeded(await kubectl(['get', 'sl', '-A']), 'get sl -A');
      return /^node7\s+alpha\s+True\s+Running\s/m.test(out) && /^node8\s+beta\s+True\s+Running\s/m.test(out) && out;
    });
    assert.match(everywhere, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+XID\s+INSTANTIATION\s+AGE$/m);
    assert.doesNotMatch(succeeded(await kubectl(['-n', 'node8', 'get', 'sl', '-o', 'name']), 'get -n node8'), /alpha/);
    assert.equal(succeeded(await kubectl(['-n', 'node7', 'get', 'sl', 'alpha', '-o', 'jsonpath={.metadata.namespace}']), 'get -o jsonpath'), 'node7');

    // The counts come with the node's next heartbeat, which may trail the sliver's own status.
    const nodeTable = await eventually('node7 counts its Ready sliver', async () => {
      const out = succeeded(await kubectl(['get', 'nodes']), 'get nodes');
      return /^node7\s+Ready\s+\d+s\s+1\/1\s+\S+$/m.test(out) && out;
    });
    assert.match(nodeTable, /^NAME\s+STATUS\s+LAST SEEN\s+SLIVERS\s+VERSION$/m);

    // The fleet API acts with the fleet's admin credentials: any uid but root and its own is refused.
    if (process.getuid?.() === 0) {
      const forbidden = await kubectl(['get', 'sl', '-A'], { uid: 4242 });
      assert.notEqual(forbidden.code, 0);
      assert.match(forbidden.stderr, /Error from server \(Forbidden\): uid 4242 may not use the fleet API/);
    } else t.diagnostic('not root: kubectl as another uid was not tried');

    // Over HTTPS: the root token reads every node; a token for any other uid is refused as that uid is on the socket.
    const overHttps = async (name: string, token: string) => {
      const file = join(dir, `${name}.token`);
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      const httpsKubeconfig = join(dir, `${name}.kubeconfig`);
      const listener = ['--https', '--port', String(httpsPort), '--certificate-authority', certFile, '--token-file', file];
      writeFileSync(httpsKubeconfig, succeeded(await slvctl(['config', 'kubeconfig', ...listener], { socket: api.socket }), 'slvctl config kubeconfig --https'), { mode: 0o600 });
      return kubectlIn(dir, httpsKubeconfig);
    };
    assert.match(succeeded(await (await overHttps('root', rootToken))(['get', 'sl', '-A']), 'get sl -A over HTTPS'), /^node7\s+alpha\s+True\s+Running\s/m);
    assert.match((await (await overHttps('stranger', strangerToken))(['get', 'sl', '-A'])).stderr, /Error from server \(Forbidden\): uid 4242 may not use the fleet API/);
    assert.match((await (await overHttps('unknown', randomBytes(32).toString('hex')))(['get', 'sl', '-A'])).stderr, /You must be logged in to the server \(the bearer token is not known\)/);
    assert.doesNotMatch(api.process.output(), new RegExp(`${rootToken}|${strangerToken}`), 'a token was logged');

    assert.match(succeeded(await kubectl(['-n', 'node7', 'delete', 'sl', 'alpha']), 'delete -n node7'), /sliver\.nm\.planet-lab\.org "alpha" deleted/);
    await eventually('node7 has deleted alpha', async () => (await nodes[0]!.daemon.store.tryGet('Sliver', 'alpha')) === undefined);
  },
);
