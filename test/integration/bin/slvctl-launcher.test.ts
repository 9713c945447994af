// bin/slvctl, the installed command (package.json "bin"), moves NODE_EXTRA_CA_CERTS aside so Node
// does not read the file at every start, and bin/slvctl.js puts it back for the programs slvctl
// runs: trust is what the caller's environment gives, for every TLS client slvctl starts. slvctl
// itself opens no TLS connection (the layering rule cli-opens-no-tls in .dependency-cruiser.cjs).
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sliverManifest, startTestApi, type TestApi } from '../../support/api-harness.js';
import { makeCertificate } from '../../support/plc-stand-in.js';
import { tempDir } from '../../support/runtime-helpers.js';
import { SLVCTL, startProgram } from '../../support/slvctl-harness.js';

const LAUNCHER = join(SLVCTL, '..', 'slvctl');
/** What Node prints at start when NODE_EXTRA_CA_CERTS names a file it cannot read. */
const EXTRA_CERTS_READ = /Ignoring extra certs from/;

let api: TestApi;
before(async () => {
  api = await startTestApi();
  await api.store.create(sliverManifest('alice'));
});
after(async () => {
  await api.close();
});

const environment = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', SLV_SERVER: api.socketPath, ...extra });

test("Node reads NODE_EXTRA_CA_CERTS at the start of `node bin/slvctl.js`, not of the installed launcher's", { timeout: 60_000 }, async () => {
  const env = environment({ NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' });
  const direct = await startProgram(process.execPath, [SLVCTL, 'get', 'sl'], { env }).done;
  assert.equal(direct.code, 0, direct.stderr);
  assert.match(direct.stderr, EXTRA_CERTS_READ);
  const launched = await startProgram(LAUNCHER, ['get', 'sl'], { env }).done;
  assert.equal(launched.code, 0, launched.stderr);
  assert.doesNotMatch(launched.stderr, EXTRA_CERTS_READ);
  assert.match(launched.stdout, /^alice\s/m);
});

test('a TLS client slvctl runs trusts a CA given only in NODE_EXTRA_CA_CERTS, and no other', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, 'slv-launcher-');
  const serverCertificate = makeCertificate(t, 'slvctl launcher test');
  const otherCertificate = makeCertificate(t, 'an unknown CA');
  const server = createServer({ cert: readFileSync(serverCertificate.certFile), key: readFileSync(serverCertificate.keyFile) }, (_req, res) => res.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // The editor `slvctl edit` runs: a Node HTTPS client that writes what the server answered, or why it was refused.
  const outcome = join(dir, 'outcome');
  const editor = join(dir, 'editor.sh');
  const client = `require('node:https').get(${JSON.stringify(url)}, (res) => res.on('data', (data) => require('node:fs').writeFileSync(${JSON.stringify(outcome)}, String(data)))).on('error', (error) => require('node:fs').writeFileSync(${JSON.stringify(outcome)}, error.code));`;
  writeFileSync(editor, `#!/bin/sh\nexec ${process.execPath} -e "$SLV_TEST_CLIENT"\n`);
  chmodSync(editor, 0o755);
  // As npm installs it: node_modules/.bin/slvctl is a symbolic link to the launcher.
  const installed = join(dir, 'slvctl');
  symlinkSync(LAUNCHER, installed);
  const edit = async (extraCa: string): Promise<string> => {
    const run = await startProgram(installed, ['edit', 'sl', 'alice'], { env: environment({ EDITOR: editor, SLV_TEST_CLIENT: client, NODE_EXTRA_CA_CERTS: extraCa }) }).done;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Edit cancelled, no changes made.\n');
    return readFileSync(outcome, 'utf8');
  };
  assert.equal(await edit(serverCertificate.certFile), 'hello');
  assert.equal(await edit(otherCertificate.certFile), 'DEPTH_ZERO_SELF_SIGNED_CERT');
});
