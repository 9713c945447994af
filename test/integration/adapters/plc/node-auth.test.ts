// Node authentication against the faithful PLC stand-in (HTTPS, a certificate made by openssl at
// test time): BootAuth for GetSession, the session kept in a 0600 file, checked with AuthCheck
// after a restart, renewed when PLC drops it; a wrong key or an untrusted certificate refused.
// BootAuth's canonical string is also checked against Python, whose str() and sort PLC uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeAuthSource, PlcClient, PlcStateFile, PlcSync, SessionFile, bootAuthMessage, isPlcFault, readNodeCredentials } from '../../../../adapters/plc/index.js';
import { UnauthorizedError, UnavailableError } from '../../../../resources/errors.js';
import { NODE_CONFIG_NAME } from '../../../../schemas/types.js';
import { GETSLIVERS_TODAY_SAMPLE_URL } from '../../../support/reference-vectors.js';
import { makeCertificate, startPlcStandIn } from '../../../support/plc-stand-in.js';
import { silentLog, tempDir, tempStore } from '../../../support/runtime-helpers.js';

const NODE_ID = 42;
const NODE_KEY = 'k3y-of-node-42/with+symbols=';
const today: unknown = JSON.parse(readFileSync(GETSLIVERS_TODAY_SAMPLE_URL, 'utf8'));

test("BootAuth's message is PLC's: values of dicts and lists, flattened, as Python's str(), sorted by code point", () => {
  const params = [{ b: 2, a: 'x', nested: { deep: [true, null] } }, [1, ['\u{1F600}', '\uFFFD']], 'z', false];
  const python = `
import sys, json
def canonicalize(args):
    values = []
    for arg in args:
        if isinstance(arg, (list, tuple)): values += canonicalize(arg)
        elif isinstance(arg, dict): values += canonicalize(list(arg.values()))
        else: values.append(str(arg))
    return values
values = canonicalize(json.loads(sys.stdin.read()))
values.sort()
sys.stdout.write(json.dumps("[" + "".join(values) + "]"))
`;
  const expected = JSON.parse(execFileSync('python3', ['-c', python], { input: JSON.stringify(params) }).toString()) as string;
  assert.equal(bootAuthMessage(params), expected);
  assert.equal(bootAuthMessage([]), '[]');
});

test('the node id and key come from the boot file unless flags give them; missing ones are named', (t) => {
  const dir = tempDir(t);
  const bootFile = join(dir, 'plnode.txt');
  writeFileSync(bootFile, `NODE_ID="${NODE_ID}"\nNODE_KEY="${NODE_KEY}"\nIP_METHOD="dhcp"\n`);
  assert.deepEqual(readNodeCredentials({ bootFile }), { nodeId: NODE_ID, key: NODE_KEY });
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, 'other-key\n');
  assert.deepEqual(readNodeCredentials({ bootFile, nodeId: 7, keyFile }), { nodeId: 7, key: 'other-key' });
  assert.deepEqual(readNodeCredentials({ bootFile: join(dir, 'absent'), nodeId: 7, keyFile }), { nodeId: 7, key: 'other-key' }, 'the boot file is read only when needed');
  assert.throws(() => readNodeCredentials({ bootFile: join(dir, 'absent') }), /cannot read the boot file .*absent/);
  writeFileSync(bootFile, 'NODE_ID=""\n');
  assert.throws(() => readNodeCredentials({ bootFile }), /no node id: give --node-id or a NODE_ID line/);
  assert.throws(() => readNodeCredentials({ bootFile, nodeId: 3 }), /no node key: give --node-key-file or a NODE_KEY line/);
});

test('a node authenticates with BootAuth, keeps its session (0600), checks it after a restart and renews it when PLC drops it', { timeout: 30_000 }, async (t) => {
  const plc = await startPlcStandIn(t, { nodes: { [NODE_ID]: NODE_KEY }, answer: () => today });
  const client = new PlcClient({ url: plc.url, cacert: plc.caFile });
  const sessionFile = new SessionFile(join(tempDir(t), 'plc-session'));
  const credentials = { nodeId: NODE_ID, key: NODE_KEY };
  const calls = () => plc.calls.splice(0).map((c) => `${c.method}/${String(c.authMethod)}${c.fault ? `!${c.fault}` : ''}`);

  const source = new NodeAuthSource(client, credentials, sessionFile);
  assert.deepEqual(await source.fetch(), today);
  assert.deepEqual(calls(), ['GetSession/hmac', 'GetSlivers/session']);
  const session = sessionFile.read();
  assert.ok(session && plc.sessions.get(session) === NODE_ID, 'the session PLC gave is kept');
  assert.equal(statSync(sessionFile.path).mode & 0o777, 0o600);
  await source.fetch();
  assert.deepEqual(calls(), ['GetSlivers/session']);

  const restarted = new NodeAuthSource(client, credentials, sessionFile);
  await restarted.fetch();
  assert.deepEqual(calls(), ['AuthCheck/session', 'GetSlivers/session'], 'a stored session is checked once, then used');

  plc.sessions.clear();
  assert.deepEqual(await restarted.fetch(), today);
  assert.deepEqual(calls(), ['GetSlivers/session!103', 'GetSession/hmac', 'GetSlivers/session']);
  assert.notEqual(sessionFile.read(), session, 'the renewed session replaced the dropped one');

  plc.sessions.clear();
  const afterRestart = new NodeAuthSource(client, credentials, sessionFile);
  await afterRestart.fetch();
  assert.deepEqual(calls(), ['AuthCheck/session!103', 'GetSession/hmac', 'GetSlivers/session']);
});

test('a wrong key is refused with a clear error that does not contain the key; an untrusted certificate is not spoken to', { timeout: 30_000 }, async (t) => {
  const plc = await startPlcStandIn(t, { nodes: { [NODE_ID]: NODE_KEY }, answer: () => today });
  const wrongKey = 'not-the-key-of-42';
  const source = new NodeAuthSource(new PlcClient({ url: plc.url, cacert: plc.caFile }), { nodeId: NODE_ID, key: wrongKey }, new SessionFile(join(tempDir(t), 's')));
  const refused = await source.fetch().then(
    () => assert.fail('a wrong key must be refused'),
    (error: unknown) => error,
  );
  assert.ok(refused instanceof UnauthorizedError);
  assert.match(
    refused.message,
    /PLC refused node 42's BootAuth \(wrong node id or key\?\): PLC answered GetSession with fault 103: : GetSession: Failed to authenticate call: BootAuth: Call could not be authenticated/,
  );
  assert.ok(!refused.message.includes(wrongKey) && !refused.message.includes(NODE_KEY));

  const stranger = makeCertificate(t, 'someone else');
  const untrusting = new PlcClient({ url: plc.url, cacert: stranger.certFile });
  await assert.rejects(
    untrusting.call('AuthCheck', [{ AuthMethod: 'anonymous' }]),
    (error: Error) => error instanceof UnavailableError && /cannot reach PLC at https:\/\/127\.0\.0\.1:\d+: .*certificate/i.test(error.message) && !isPlcFault(error),
  );
  const client = new PlcClient({ url: plc.url, cacert: plc.caFile });
  await assert.rejects(client.call('DeleteSlice', [{ AuthMethod: 'anonymous' }, 1]), (error: Error) => /fault 100: Invalid method DeleteSlice/.test(error.message) && isPlcFault(error));
  await assert.rejects(client.call('GetSlivers', []), /fault 101: : GetSlivers: Expected 1-2 arguments, got 0/);
  await assert.rejects(client.call('GetSlivers', [{ AuthMethod: 'magic' }]), /fault 102: : GetSlivers: Invalid AuthMethod value: must be 'session', /);
  await assert.rejects(client.call('GetSlivers', [{ AuthMethod: 'anonymous' }]), UnauthorizedError);
});

test("PlcSync over node authentication: today's answer applied with its NodeConfig; a wrong key keeps the stored state and says so", { timeout: 30_000 }, async (t) => {
  const plc = await startPlcStandIn(t, { nodes: { [NODE_ID]: NODE_KEY }, answer: () => today });
  const store = tempStore(t);
  const dir = tempDir(t);
  const client = new PlcClient({ url: plc.url, cacert: plc.caFile });
  // The sample's time: its slivers expire a month later.
  const sync = new PlcSync({
    store,
    source: new NodeAuthSource(client, { nodeId: NODE_ID, key: NODE_KEY }, new SessionFile(join(dir, 'session'))),
    state: new PlcStateFile(join(dir, 'state.json')),
    log: silentLog,
    now: () => 1_764_000_000_000,
  });
  const applied = await sync.syncOnce();
  assert.equal(applied.outcome, 'applied');
  assert.deepEqual([applied.created, applied.updated], [4, 0], 'three records and the NodeConfig');
  assert.equal(sync.authenticated, true);
  assert.ok(sync.lastReached !== undefined);
  const config = await store.get('NodeConfig', NODE_CONFIG_NAME);
  assert.equal(config.spec.bandwidthCap, 100_000_000);
  assert.deepEqual(
    config.spec.accounts.map((a) => a.name),
    ['root', 'site_admin'],
  );
  const revision = store.revision();
  assert.equal((await sync.syncOnce()).updated, 0);
  assert.equal(store.revision(), revision, 'the same answer again writes nothing, the NodeConfig included');

  plc.nodes.set(NODE_ID, 'rekeyed-at-plc');
  plc.sessions.clear();
  const refused = await sync.syncOnce();
  assert.equal(refused.outcome, 'unauthorized');
  assert.equal(sync.authenticated, false);
  assert.match(refused.error ?? '', /BootAuth/);
  assert.equal(store.revision(), revision, 'the stored state is kept');
  assert.equal((await store.list('Sliver')).items.length, 2);
});
