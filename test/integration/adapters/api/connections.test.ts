// The API listeners under connection pressure from other uids (adapters/api/http-server.ts): each
// uid holds at most its share of connections and the rest are closed at accept, others are still
// served; a connection that sends nothing is closed after the idle timeout; a client that
// half-closes after its request gets the whole answer, over TCP as over the Unix socket.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConnectionBudget, IDLE_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../../../adapters/api/http-server.js';
import { startXmlRpcShim, type XmlRpcShim } from '../../../../adapters/api/xmlrpc/server.js';
import { NEEDS_ROOT, freePort, methodCallXml, parseReply, pythonCall, sliver, startWorld, type ShimWorld } from '../../../support/xmlrpc-harness.js';

const PER_UID = 3;

// hold PORT COUNT: opens COUNT connections, waits, prints how many the server closed, then holds
// the rest until stdin closes. halfclose ENDPOINT: sends one request read from stdin, half-closes,
// prints the whole reply.
const CLIENT = `
import json, socket, sys, time
mode = sys.argv[1]
if mode == 'hold':
    port, count = int(sys.argv[2]), int(sys.argv[3])
    conns = [socket.create_connection(('127.0.0.1', port)) for _ in range(count)]
    time.sleep(1.0)
    closed = 0
    for c in conns:
        c.settimeout(0.05)
        try:
            if c.recv(1) == b'':
                closed += 1
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed += 1
    print(json.dumps({'closed': closed}), flush=True)
    sys.stdin.read()
else:
    target = sys.argv[2]
    if target.startswith('unix:'):
        c = socket.socket(socket.AF_UNIX)
        c.connect(target[5:])
    else:
        c = socket.create_connection(('127.0.0.1', int(target)))
    body = sys.stdin.buffer.read()
    c.sendall(b'POST / HTTP/1.0\\r\\nContent-Type: text/xml\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body) + body)
    c.shutdown(socket.SHUT_WR)
    reply = b''
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        reply += chunk
    sys.stdout.buffer.write(reply)
`;

describe('API connections', { timeout: 60_000, skip: NEEDS_ROOT }, () => {
  let world: ShimWorld;
  let shim: XmlRpcShim;
  let script: string;
  let aliceUid: number;

  before(async () => {
    world = await startWorld();
    script = join(world.dir, 'connections.py');
    writeFileSync(script, CLIENT, { mode: 0o644 });
    aliceUid = (await world.node.createAccount('alice', 'sliver')).uid;
    await world.store.create(sliver('alice'));
    await world.store.create(sliver('bob'));
    shim = await startXmlRpcShim({
      store: world.store,
      node: world.node,
      socketPath: join(world.dir, 'limited.sock'),
      port: await freePort(),
      connections: new ConnectionBudget({ total: 50, perUid: PER_UID }),
    });
  });
  after(async () => {
    await shim?.close();
    await world?.close();
  });

  function run(args: string[], uid: number, input = '') {
    const child = spawn('/usr/bin/python3', [script, ...args], { uid, gid: uid, stdio: ['pipe', 'pipe', 'inherit'] });
    const stdout: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    if (input) child.stdin.end(input);
    return { child, output: () => Buffer.concat(stdout).toString('utf8') };
  }

  test('one uid holds at most its share; the others are closed at accept, and other uids are still served', async () => {
    const holder = run(['hold', String(shim.tcpPort), '10'], 65534);
    await once(holder.child.stdout, 'data');
    assert.deepEqual(JSON.parse(holder.output()), { closed: 10 - PER_UID });
    const endpoint = `http://127.0.0.1:${shim.tcpPort}/`;
    assert.ok('result' in (await pythonCall(world, endpoint, 'Help', [], 65533)), 'another uid is served');
    assert.ok('result' in (await pythonCall(world, endpoint, 'Help', [], 0)), 'root is served');
    await assert.rejects(pythonCall(world, endpoint, 'Help', [], 65534), /python client failed/, 'the holder gets no fourth connection');
    holder.child.stdin.end();
    await once(holder.child, 'exit');
    assert.ok('result' in (await pythonCall(world, endpoint, 'Help', [], 65534)), 'its connections closed, it is served again');
  });

  test('a client that half-closes after its request gets the whole answer on both listeners', async () => {
    for (const target of [String(shim.tcpPort), `unix:${shim.socketPath}`]) {
      const client = run(['halfclose', target], aliceUid, methodCallXml('GetRecord', []));
      await once(client.child, 'exit');
      const reply = client.output();
      assert.match(reply, /^HTTP\/1\.1 200 /, target);
      const outcome = await parseReply(reply.slice(reply.indexOf('\r\n\r\n') + 4));
      assert.equal((outcome as { result: { name: string } }).result.name, 'alice', target);
    }
  });

  test('a connection that sends nothing is answered 408 and closed after the idle timeout, before the request timeout', async () => {
    const started = Date.now();
    const socket = connect(shim.socketPath);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await once(socket, 'close');
    const elapsed = Date.now() - started;
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(elapsed >= IDLE_TIMEOUT_MS - 100 && elapsed < REQUEST_TIMEOUT_MS, `closed after ${elapsed} ms`);
  });
});
