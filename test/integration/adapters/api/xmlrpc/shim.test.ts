// The XML-RPC shim through a foreign client (Python's xmlrpc.client) run as other uids, over the
// Unix socket and loopback TCP: every method, every fault and its exact string, the order of the
// checks, the permission matrix, hostile and malformed input.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { startXmlRpcShim } from '../../../../../adapters/api/xmlrpc/server.js';
import { API_VERSION, type Delegate } from '../../../../../schemas/types.js';
import { NEEDS_ROOT, freePort, methodCallXml, parseReply, pythonCall, pythonCalls, rawPost, sliver, startWorld, type ShimWorld } from '../../../../support/xmlrpc-harness.js';
import { OWNER_NAME } from '../../../../support/host-needs.js';

const TIMEOUT = { timeout: 60_000, skip: NEEDS_ROOT };
const NOT_A_SLIVER = { fault: { code: 102, string: 'Invalid argument: the first argument must be a sliver name.' } };
const BAD_LOANS = { fault: { code: 102, string: 'Invalid argument: the second argument must be a well-formed loan specification' } };
const DENIED = { fault: { code: 108, string: 'Permission denied.' } };
const METHODS = ['Create', 'Destroy', 'GetEffectiveRSpec', 'GetLoans', 'GetRSpec', 'GetRecord', 'GetSSHKeys', 'GetXIDs', 'Help', 'ReCreate', 'SetLoans', 'Start', 'Stop'];
const DEFAULTS = { enabled: 1, cpu_min: 0, cpu_share: 32, net_min: 8, net_max: 1_000_000_000, net2_min: 8, net2_max: 1_000_000_000, net_share: 1, disk_max: 5_000_000 };
const STRANGER_UID = 4242; // no account on the node

describe('XML-RPC shim', TIMEOUT, () => {
  let world: ShimWorld;
  let tcpEndpoint: string;
  const uid: Record<'alice' | 'bob' | 'carol' | 'dlg', number> = { alice: 0, bob: 0, carol: 0, dlg: 0 };

  before(async () => {
    world = await startWorld({ port: await freePort() });
    tcpEndpoint = `http://127.0.0.1:${world.shim.tcpPort}/`;
    for (const name of ['alice', 'bob', 'carol'] as const) uid[name] = (await world.node.createAccount(name, 'sliver')).uid;
    uid.dlg = (await world.node.createAccount('dlg', 'delegate')).uid;
    await world.store.create(
      sliver('alice', {
        keys: ['ssh-ed25519 AAAAalice alice@example'],
        rspec: { cpu_share: 64, net_max: 5_000_000_000 },
        delegations: [{ account: 'dlg', methods: ['GetRSpec', 'GetEffectiveRSpec', 'GetLoans', 'SetLoans'] }],
      }),
    );
    await world.store.create(sliver('bob', { instantiation: 'delegated', delegations: [{ account: 'dlg' }], keys: ['ssh-rsa AAAAbob1', 'ssh-rsa AAAAbob2'] }));
    await world.store.create(sliver('carol'));
    const delegate: Delegate = { apiVersion: API_VERSION, kind: 'Delegate', metadata: { name: 'dlg' }, spec: { keys: ['ssh-ed25519 AAAAdlg'], timestamp: 100 } };
    await world.store.create(delegate);
  });
  after(async () => {
    await world?.close();
  });

  test('the socket is mode 0666 and Help lists every method, one line each', async () => {
    assert.equal(lstatSync(world.shim.socketPath).mode & 0o777, 0o666);
    const outcome = await pythonCall(world, world.unixEndpoint, 'Help', [], STRANGER_UID);
    assert.ok('result' in outcome);
    const lines = String(outcome.result).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => line.slice(0, line.indexOf('('))),
      METHODS,
    );
  });

  test('every fault code with its exact string', async () => {
    const outcomes = await pythonCalls(
      world,
      world.unixEndpoint,
      [
        { method: 'Nope' },
        { method: 'GetRSpec', params: [] },
        { method: 'SetLoans', params: ['alice'] },
        { method: 'GetRSpec', params: ['nosuch'] },
        { method: 'GetRSpec', params: ['dlg'] }, // a record, but a delegate
        { method: 'GetRSpec', params: [7] },
        { method: 'Stop', params: ['alice'] }, // dlg's delegation does not list Stop
        { method: 'SetLoans', params: ['alice', 'notalist'] },
        { method: 'GetRecord' },
      ],
      uid.dlg,
    );
    assert.deepEqual(outcomes.slice(0, 8), [
      { fault: { code: 100, string: `Invalid API method Nope.  Valid choices are ${METHODS.join(', ')}` } },
      { fault: { code: 101, string: 'Invalid argument count: got 0, expecting 1.' } },
      { fault: { code: 101, string: 'Invalid argument count: got 1, expecting 2.' } },
      NOT_A_SLIVER,
      NOT_A_SLIVER,
      NOT_A_SLIVER,
      DENIED,
      BAD_LOANS,
    ]);
    assert.deepEqual(outcomes[8], { result: { name: 'dlg', type: 'delegate', instantiation: 'plc-instantiated', keys: 'ssh-ed25519 AAAAdlg', timestamp: 100 } });

    // 104: a failure inside a method, with the failure's text.
    world.node.failNext('listAccounts', new Error('account database unreadable'));
    assert.deepEqual(await pythonCall(world, world.unixEndpoint, 'GetXIDs', [], uid.carol), {
      fault: { code: 104, string: 'Error in call: account database unreadable' },
    });
    assert.deepEqual(await pythonCall(world, world.unixEndpoint, 'GetRecord', [], STRANGER_UID), {
      fault: { code: 104, string: `Error in call: uid ${STRANGER_UID} has no account on this node` },
    });
  });

  test('the checks run in order: method, count, sliver, permission, loans', async () => {
    const outcomes = await pythonCalls(
      world,
      world.unixEndpoint,
      [
        { method: 'Nope', params: ['alice', 1, 2] }, // unknown method beats the argument count
        { method: 'GetRSpec', params: ['nosuch', 'extra'] }, // count beats the sliver check
        { method: 'GetRSpec', params: ['nosuch'] }, // sliver beats permission
        { method: 'SetLoans', params: ['alice', 'notalist'] }, // permission beats loan validation
      ],
      uid.carol,
    );
    assert.deepEqual(
      outcomes.map((o) => ('fault' in o ? o.fault.code : 'result')),
      [100, 101, 102, 108],
    );
  });

  test('permission matrix: self, root, delegated, stranger', async () => {
    // dlg may GetRSpec on alice (listed) but not Stop; dlg may do anything on bob (no method list).
    const matrix: Array<[string, number, Record<string, boolean>]> = [
      ['self', uid.alice, { 'GetRSpec alice': true, 'Stop alice': true, 'GetRSpec bob': false }],
      ['root', 0, { 'GetRSpec alice': true, 'Stop alice': true, 'GetRSpec bob': true }],
      ['delegated', uid.dlg, { 'GetRSpec alice': true, 'Stop alice': false, 'GetRSpec bob': true }],
      ['other sliver', uid.carol, { 'GetRSpec alice': false, 'Stop alice': false, 'GetRSpec bob': false }],
      ['no account', STRANGER_UID, { 'GetRSpec alice': false, 'Stop alice': false, 'GetRSpec bob': false }],
    ];
    for (const [who, callerUid, expected] of matrix) {
      const calls = Object.keys(expected).map((key) => {
        const [method, name] = key.split(' ');
        return { method: method!, params: [name] };
      });
      const outcomes = await pythonCalls(world, world.unixEndpoint, calls, callerUid);
      const allowed = Object.fromEntries(Object.keys(expected).map((key, i) => [key, 'result' in outcomes[i]!]));
      assert.deepEqual(allowed, expected, who);
      for (const outcome of outcomes) if ('fault' in outcome) assert.deepEqual(outcome, DENIED, who);
    }
  });

  test('Start, Stop, Create, Destroy and ReCreate write desired state only', async () => {
    const before = world.node.history.length;
    const outcomes = await pythonCalls(
      world,
      world.unixEndpoint,
      [
        { method: 'Stop', params: ['bob'] },
        { method: 'Destroy', params: ['bob'] },
        { method: 'ReCreate', params: ['bob'] },
        { method: 'ReCreate', params: ['bob'] },
      ],
      uid.dlg,
    );
    assert.deepEqual(outcomes, [{ result: 1 }, { result: 1 }, { result: 1 }, { result: 1 }]);
    assert.deepEqual((await world.store.get('Sliver', 'bob')).spec.run, { state: 'Stopped', instantiated: false, recreate: 2 });

    assert.deepEqual(
      await pythonCalls(
        world,
        world.unixEndpoint,
        [
          { method: 'Start', params: ['bob'] },
          { method: 'Create', params: ['bob'] },
        ],
        uid.bob,
      ),
      [{ result: 1 }, { result: 1 }],
    );
    assert.deepEqual((await world.store.get('Sliver', 'bob')).spec.run, { state: 'Running', instantiated: true, recreate: 2, start: 1 });

    // Create/Destroy concern delegated slivers only: alice is plc-instantiated.
    assert.deepEqual(await pythonCall(world, world.unixEndpoint, 'Destroy', ['alice'], uid.alice), { result: 1 });
    assert.equal((await world.store.get('Sliver', 'alice')).spec.run?.instantiated, undefined);
    // The shim only reads the node (uid lookups); the controllers act on it.
    assert.deepEqual(new Set(world.node.history.slice(before).map((call) => call.method)), new Set(['accountNameByUid']));
  });

  test('GetRSpec, GetXIDs, GetSSHKeys, GetRecord; integers beyond 32 bits go out as <i8>', async () => {
    const outcomes = await pythonCalls(world, world.unixEndpoint, [{ method: 'GetRSpec', params: ['alice'] }, { method: 'GetXIDs' }, { method: 'GetSSHKeys' }, { method: 'GetRecord' }], uid.alice);
    const rspec = { ...DEFAULTS, cpu_share: 64, net_max: 5_000_000_000 };
    assert.deepEqual(outcomes[0], { result: rspec });
    assert.deepEqual(outcomes[1], { result: { alice: uid.alice, bob: uid.bob, carol: uid.carol } });
    assert.deepEqual(outcomes[2], { result: { alice: 'ssh-ed25519 AAAAalice alice@example', bob: 'ssh-rsa AAAAbob1\nssh-rsa AAAAbob2', carol: '' } });
    const record = (outcomes[3] as { result: Record<string, unknown> }).result;
    assert.equal(record.name, 'alice');
    assert.deepEqual(record.rspec, rspec);
    assert.deepEqual(record.delegations, [{ account: 'dlg', methods: ['GetRSpec', 'GetEffectiveRSpec', 'GetLoans', 'SetLoans'] }]);

    const raw = await rawPost(world.shim.socketPath, methodCallXml('GetRSpec', ['<string>alice</string>']));
    assert.equal(raw.status, 200);
    assert.match(raw.body, /<name>net_max<\/name><value><i8>5000000000<\/i8><\/value>/);
    assert.match(raw.body, /<name>net2_max<\/name><value><int>1000000000<\/int><\/value>/);
  });

  test('SetLoans replaces the Loan objects; GetLoans and GetEffectiveRSpec show them at once', async () => {
    const call = (method: string, params: unknown[]) => ({ method, params });
    let outcomes = await pythonCalls(
      world,
      world.unixEndpoint,
      [
        call('SetLoans', [
          'alice',
          [
            ['bob', 'cpu_share', 10],
            ['carol', 'net_max', 1000],
            ['ghost', 'cpu_share', 1],
          ],
        ]),
        call('GetLoans', ['alice']),
        call('GetEffectiveRSpec', ['alice']),
        call('GetEffectiveRSpec', ['bob']),
      ],
      uid.dlg,
    );
    assert.deepEqual(outcomes, [
      { result: 1 },
      {
        result: [
          ['bob', 'cpu_share', 10],
          ['carol', 'net_max', 1000],
          ['ghost', 'cpu_share', 1],
        ],
      },
      { result: { ...DEFAULTS, cpu_share: 54, net_max: 5_000_000_000 - 1000 } },
      { result: { ...DEFAULTS, cpu_share: 42 } },
    ]);
    const loansOfAlice = async () => (await world.store.list('Loan')).items.filter((l) => l.spec.from === 'alice').map((l) => [l.metadata.name, l.spec.order, l.spec.to]);
    assert.deepEqual(await loansOfAlice(), [
      ['alice.0', 0, 'bob'],
      ['alice.1', 1, 'carol'],
      ['alice.2', 2, 'ghost'],
    ]);
    const firstUid = (await world.store.get('Loan', 'alice.0')).metadata.uid;

    // Shorter list: the first Loan is updated in place, the extras are deleted.
    outcomes = await pythonCalls(world, world.unixEndpoint, [call('SetLoans', ['alice', [['carol', 'cpu_share', 5]]]), call('GetEffectiveRSpec', ['bob'])], uid.dlg);
    assert.deepEqual(outcomes, [{ result: 1 }, { result: DEFAULTS }]);
    assert.deepEqual(await loansOfAlice(), [['alice.0', 0, 'carol']]);
    assert.equal((await world.store.get('Loan', 'alice.0')).metadata.uid, firstUid);

    // Floats, booleans, negative amounts, non-loanable resources, non-account targets: refused, nothing written.
    const refused = await pythonCalls(
      world,
      world.unixEndpoint,
      [
        call('SetLoans', ['alice', [['bob', 'cpu_share', { $double: 1.0 }]]]),
        call('SetLoans', ['alice', [['bob', 'cpu_share', true]]]),
        call('SetLoans', ['alice', [['bob', 'cpu_share', -1]]]),
        call('SetLoans', ['alice', [['bob', 'disk_max', 1]]]),
        call('SetLoans', [
          'alice',
          [
            ['bob', 'cpu_share', 1],
            ['not an account', 'cpu_share', 1],
          ],
        ]),
        call('SetLoans', ['alice', JSON.parse('{"__proto__": "x", "constructor": 1}')]),
      ],
      uid.alice,
    );
    assert.deepEqual(refused, Array(6).fill(BAD_LOANS));
    assert.deepEqual(await loansOfAlice(), [['alice.0', 0, 'carol']]);

    // <i8> is accepted in: an amount sent as a 64-bit integer.
    const loanXml =
      '<array><data><value><array><data><value><string>bob</string></value><value><string>net_max</string></value><value><i8>3000000000</i8></value></data></array></value></data></array>';
    const [viaI8] = await pythonCalls(world, world.unixEndpoint, [{ raw: methodCallXml('SetLoans', ['<string>alice</string>', loanXml]) }], uid.alice);
    assert.deepEqual(viaI8, { result: 1 });
    assert.deepEqual(await pythonCall(world, world.unixEndpoint, 'GetEffectiveRSpec', ['alice'], uid.alice), { result: { ...DEFAULTS, cpu_share: 64, net_max: 2_000_000_000 } });
    assert.deepEqual(await pythonCall(world, world.unixEndpoint, 'SetLoans', ['alice', []], uid.alice), { result: 1 });
    assert.deepEqual(await loansOfAlice(), []);
  });

  test('concurrent SetLoans on one sliver never interleave', async () => {
    const lists = [1, 4, 2, 3].map((n) => Array.from({ length: n }, (_, i) => ['bob', 'cpu_share', n * 10 + i]));
    const outcomes = await Promise.all(lists.map((loans) => pythonCall(world, world.unixEndpoint, 'SetLoans', ['carol', loans], uid.carol)));
    assert.deepEqual(
      outcomes,
      lists.map(() => ({ result: 1 })),
    );
    const stored = (await world.store.list('Loan')).items.filter((l) => l.spec.from === 'carol').sort((a, b) => a.spec.order - b.spec.order);
    const amounts = stored.map((l) => l.spec.amount);
    assert.ok(
      lists.some((list) => JSON.stringify(list.map((l) => l[2])) === JSON.stringify(amounts)),
      `stored ${JSON.stringify(amounts)} is one of the lists`,
    );
    await pythonCall(world, world.unixEndpoint, 'SetLoans', ['carol', []], uid.carol);
  });

  test('over loopback TCP the caller is identified from the kernel socket table', async () => {
    const asAlice = await pythonCalls(world, tcpEndpoint, [{ method: 'GetRecord' }, { method: 'GetRSpec', params: ['carol'] }], uid.alice);
    assert.equal((asAlice[0] as { result: { name: string } }).result.name, 'alice');
    assert.deepEqual(asAlice[1], DENIED);
    assert.deepEqual(await pythonCall(world, tcpEndpoint, 'GetRSpec', ['carol'], uid.carol), { result: DEFAULTS });
    assert.deepEqual(await pythonCall(world, tcpEndpoint, 'GetRSpec', ['carol'], 0), { result: DEFAULTS });
    assert.deepEqual(await pythonCall(world, tcpEndpoint, 'GetRSpec', ['alice'], uid.dlg), { result: { ...DEFAULTS, cpu_share: 64, net_max: 5_000_000_000 } });
    assert.deepEqual(await pythonCall(world, tcpEndpoint, 'GetRSpec', ['carol'], STRANGER_UID), DENIED);
  });

  test('200 simultaneous connections are all answered', async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, () => rawPost(world.shim.socketPath, methodCallXml('GetRSpec', ['<string>carol</string>']))));
    const outcomes = await Promise.all(replies.map((reply) => parseReply(reply.body)));
    assert.deepEqual(new Set(outcomes.map((o) => JSON.stringify(o))), new Set([JSON.stringify({ result: DEFAULTS })]));
  });

  test('bad input gets a fault, never a crash or an empty 404', async () => {
    const post = async (body: string | Buffer, headers?: Record<string, string | number>) => {
      const reply = await rawPost(world.shim.socketPath, body, headers);
      assert.equal(reply.status, 200);
      const outcome = await parseReply(reply.body);
      assert.ok('fault' in outcome, `a fault: ${reply.body}`);
      return outcome.fault;
    };
    assert.deepEqual(await post('not xml at all'), { code: 1, string: 'Malformed XML-RPC request: Invalid XML-RPC message' });
    assert.equal((await post('<methodCall><methodName>Help</methodName><params>')).code, 1);
    assert.equal((await post(methodCallXml('GetRSpec', ['<int>12abc</int>']))).code, 1);
    assert.equal((await post(methodCallXml('GetRSpec', ['<double>x</double>']))).code, 1);
    assert.equal((await post(methodCallXml('GetRSpec', ['<bogus>1</bogus>']))).code, 1);
    assert.equal((await post('<methodResponse><params></params></methodResponse>')).code, 1);

    // Hostile names: prototype members are neither methods nor struct magic.
    for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.equal((await post(methodCallXml(method, []))).code, 100, method);
    }
    const hostileStruct = '<struct><member><name>__proto__</name><value><string>alice</string></value></member><member><name>constructor</name><value><int>1</int></value></member></struct>';
    assert.deepEqual(await post(methodCallXml('GetRSpec', [hostileStruct])), NOT_A_SLIVER.fault);
    assert.deepEqual(await post(methodCallXml('SetLoans', ['<string>alice</string>', hostileStruct])), BAD_LOANS.fault);
    assert.deepEqual(await post(methodCallXml('GetRSpec', ['<array><data><value>alice</value></data></array>'])), NOT_A_SLIVER.fault);

    // Oversize bodies, declared or chunked, are refused whole; the server keeps serving.
    const big = Buffer.alloc(2 * 1024 * 1024, 'a');
    assert.deepEqual(await post(big), { code: 1, string: 'Request too large: the limit is 1048576 bytes' });
    assert.deepEqual(await post(big, { 'Transfer-Encoding': 'chunked' }), { code: 1, string: 'Request too large: the limit is 1048576 bytes' });
    const get = await rawPost(world.shim.socketPath, '', {}, 'GET');
    assert.deepEqual(await parseReply(get.body), { fault: { code: 1, string: 'XML-RPC requests must be HTTP POST, not GET' } });
    const help = await rawPost(world.shim.socketPath, methodCallXml('Help', []));
    assert.match(help.body, /GetRSpec\(sliver_name\)/);
  });
});

describe('XML-RPC shim socket lifecycle', TIMEOUT, () => {
  test('a live socket is reported and left alone, the other sockets served; a stale one is replaced; close removes the socket', async () => {
    const world = await startWorld();
    const start = (socketPath: string, extraSocketPaths: string[] = []) => startXmlRpcShim({ store: world.store, node: world.node, socketPath, extraSocketPaths, port: 0 });
    try {
      const other = join(world.dir, 'other.sock');
      const second = await start(world.shim.socketPath, [other]);
      assert.deepEqual(second.sockets, [
        { path: world.shim.socketPath, serving: false, problem: `cannot serve on the Unix socket ${world.shim.socketPath}: another server (the socket belongs to ${OWNER_NAME}) is listening on it` },
        { path: other, serving: true },
      ]);
      assert.ok('result' in (await pythonCall(world, `unix:${other}`, 'Help')));
      await second.close();
      assert.throws(() => lstatSync(other), /ENOENT/);
      assert.ok(lstatSync(world.shim.socketPath).isSocket(), "the first shim's socket is untouched");
      await world.shim.close();
      assert.throws(() => lstatSync(world.shim.socketPath), /ENOENT/);

      // A socket file whose server died without removing it.
      execFileSync('/usr/bin/python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', world.shim.socketPath]);
      assert.ok(lstatSync(world.shim.socketPath).isSocket());
      const again = await start(world.shim.socketPath);
      assert.ok('result' in (await pythonCall(world, world.unixEndpoint, 'Help')));
      await again.close();

      const blocked = await start(join(world.dir, 'xmlrpc-client.py'));
      assert.match(blocked.sockets[0]?.problem ?? '', new RegExp(`exists, owned by ${OWNER_NAME}, and is not a socket`));
      await blocked.close();
      assert.ok(lstatSync(join(world.dir, 'xmlrpc-client.py')).isFile());
    } finally {
      await world.close();
    }
  });

  test('bad options are refused before anything listens', async () => {
    const world = await startWorld();
    try {
      const socketPath = join(world.dir, 'other.sock');
      await assert.rejects(startXmlRpcShim({ store: world.store, node: world.node, socketPath, port: 70000 }), /port must be an integer from 0 to 65535, got 70000/);
      await assert.rejects(startXmlRpcShim({ store: world.store, node: world.node, socketPath, port: 0, maxRequestBytes: 0 }), /request limit must be a positive number of bytes, got 0/);
      assert.throws(() => lstatSync(socketPath), /ENOENT/);
    } finally {
      await world.close();
    }
  });

  test('close lets the calls in flight finish their writes and answer', async () => {
    const world = await startWorld();
    try {
      const { uid } = await world.node.createAccount('alice', 'sliver');
      await world.store.create(sliver('alice'));
      await world.store.create(sliver('bob'));
      world.node.hold('accountNameByUid'); // the call stops at caller identity, before its writes
      const pending = pythonCall(world, world.unixEndpoint, 'SetLoans', ['alice', [['bob', 'cpu_share', 5]]], uid);
      for (let i = 0; i < 500 && world.node.inFlight('accountNameByUid') === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(world.node.inFlight('accountNameByUid'), 1, 'the call is in flight');
      const closing = world.shim.close();
      world.node.release('accountNameByUid');
      assert.deepEqual(await pending, { result: 1 });
      await closing;
      assert.deepEqual(
        (await world.store.list('Loan')).items.map((loan) => loan.metadata.name),
        ['alice.0'],
      );
      assert.throws(() => lstatSync(world.shim.socketPath), /ENOENT/);
    } finally {
      await world.close();
    }
  });
});
