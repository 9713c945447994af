// slvctl config kubeconfig / config view: the kubeconfig for each listener, secrets redacted in the
// view as kubectl redacts them, and options that cannot work refused naming why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { kubeconfig, viewConfig } from '../../../cli/kubeconfig.js';
import { UsageError } from '../../../resources/errors.js';
import { tempDir } from '../../support/runtime-helpers.js';

const TOKEN = 'c'.repeat(64);
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function files(dir: string): { tokenFile: string; certificateAuthority: string } {
  const tokenFile = join(dir, 'token');
  const certificateAuthority = join(dir, 'ca.pem');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  writeFileSync(certificateAuthority, PEM);
  return { tokenFile, certificateAuthority };
}

test('the loopback listener: http, no credentials; HTTPS: the token and the CA embedded', (t) => {
  const plain = parseYaml(kubeconfig({ port: 6443, host: '::1', name: 'node1' }));
  assert.deepEqual(plain.clusters, [{ name: 'node1', cluster: { server: 'http://[::1]:6443' } }]);
  assert.deepEqual(plain.users, [{ name: 'node1', user: {} }]);
  assert.equal(plain['current-context'], 'node1');

  const secure = parseYaml(kubeconfig({ port: 6443, host: 'node1.example.org', name: 'slv', https: true, ...files(tempDir(t)) }));
  assert.deepEqual(secure.clusters, [{ name: 'slv', cluster: { server: 'https://node1.example.org:6443', 'certificate-authority-data': Buffer.from(PEM).toString('base64') } }]);
  assert.deepEqual(secure.users, [{ name: 'slv', user: { token: TOKEN } }]);
});

test('config view: the token REDACTED and the CA DATA+OMITTED unless --raw; without --port, the socket slvctl uses', (t) => {
  const listener = { port: 6443, host: '127.0.0.1', name: 'slv', https: true, ...files(tempDir(t)), socket: () => '/run/slv/api.sock' };
  const view = viewConfig({ ...listener, raw: false });
  assert.ok(!view.includes(TOKEN));
  const shown = parseYaml(view);
  assert.deepEqual(shown.users, [{ name: 'slv', user: { token: 'REDACTED' } }]);
  assert.equal(shown.clusters[0].cluster['certificate-authority-data'], 'DATA+OMITTED');
  assert.equal(viewConfig({ ...listener, raw: true }), kubeconfig(listener));
  const own = parseYaml(viewConfig({ name: 'slv', raw: false, socket: () => '/run/slv/api.sock' }));
  assert.deepEqual(own.clusters, [{ name: 'slv', cluster: { server: 'unix:///run/slv/api.sock' } }]);
  assert.deepEqual(own.users, [{ name: 'slv', user: {} }]);
});

test('options that cannot work are refused naming why', (t) => {
  const dir = tempDir(t);
  const { tokenFile, certificateAuthority } = files(dir);
  const usage = (fn: () => unknown, message: RegExp) => assert.throws(fn, (e: Error) => e instanceof UsageError && message.test(e.message));
  const base = { port: 6443, host: '127.0.0.1', name: 'slv' };
  usage(() => kubeconfig({ ...base, tokenFile }), /--token-file needs --https: the loopback listener knows callers by uid and would send a token in clear/);
  usage(() => kubeconfig({ ...base, certificateAuthority, tokenFile }), /--certificate-authority and --token-file need --https/);
  usage(() => kubeconfig({ ...base, https: true }), /--https needs --token-file: the HTTPS listener knows callers by bearer token only/);
  usage(() => kubeconfig({ ...base, https: true, tokenFile: join(dir, 'absent') }), /--token-file .*absent: ENOENT/);
  writeFileSync(tokenFile, `${TOKEN},root,0\n`);
  usage(() => kubeconfig({ ...base, https: true, tokenFile }), /the first line must be the token alone/);
  usage(() => viewConfig({ name: 'slv', raw: false, https: true, socket: () => '/s' }), /give --port too/);
});
