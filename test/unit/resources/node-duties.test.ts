import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminAuthorizedKeys, confFileRefusal, selectControllers } from '../../../resources/node-duties.js';

const KNOWN = ['account', 'rspec', 'bwmon', 'extra'];
const ON = ['account', 'rspec', 'bwmon'];

test('--controllers: * is the default set, -name leaves one out wherever it stands, name adds one', () => {
  assert.deepEqual([...selectControllers('*', KNOWN, ON)].sort(), ['account', 'bwmon', 'rspec']);
  assert.deepEqual([...selectControllers('*,-bwmon', KNOWN, ON)].sort(), ['account', 'rspec']);
  assert.deepEqual([...selectControllers('-bwmon,*', KNOWN, ON)].sort(), ['account', 'rspec']);
  assert.deepEqual([...selectControllers('*,extra', KNOWN, ON)].sort(), ['account', 'bwmon', 'extra', 'rspec']);
  assert.deepEqual([...selectControllers('account', KNOWN, ON)], ['account']);
});

test('--controllers: an unknown name or an empty list is refused, naming the problem', () => {
  assert.throws(() => selectControllers('*,-bwmom', KNOWN, ON), /unknown controller "bwmom" \(known: account, rspec, bwmon, extra\)/);
  assert.throws(() => selectControllers(' , ', KNOWN, ON), /--controllers is empty/);
});

test("admin keys: each special account gets PLC's keys once, in order; one PLC does not list gets none", () => {
  const files = adminAuthorizedKeys([
    { name: 'root', keys: ['ssh-ed25519 A one', ' ssh-rsa B two ', 'ssh-ed25519 A one', ''] },
    { name: 'someone', keys: ['ssh-ed25519 C three'] },
  ]);
  assert.equal(files.get('root'), 'ssh-ed25519 A one\nssh-rsa B two\n');
  assert.equal(files.get('site_admin'), '');
  assert.equal(files.has('someone'), false, 'only the special accounts');
});

test('conf file destinations: inside an allowed directory, absolute and normalized only', () => {
  const allowed = ['/etc/planetlab', '/etc/cron.d/'];
  assert.equal(confFileRefusal('/etc/planetlab/plc_config', allowed), undefined);
  assert.equal(confFileRefusal('/etc/cron.d/slv', allowed), undefined);
  assert.match(confFileRefusal('/etc/passwd', allowed) ?? '', /outside the allowed directories/);
  assert.match(confFileRefusal('/etc/planetlab', allowed) ?? '', /outside/, 'the directory itself is not a file in it');
  assert.match(confFileRefusal('/etc/planetlabX/a', allowed) ?? '', /outside/);
  assert.match(confFileRefusal('/etc/planetlab/../passwd', allowed) ?? '', /not a normalized file path/);
  assert.match(confFileRefusal('etc/planetlab/a', allowed) ?? '', /not an absolute path/);
});
