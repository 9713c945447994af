// The XML-RPC listeners answer plain HTTP/1.0 calls themselves (adapters/api/xmlrpc/fast-path.ts):
// the bytes must be those Node's HTTP server writes for the same call, what the plain path does not
// take must behave as through Node's server alone, a peer must not hold a connection longer, and
// close() must not wait on a connection that never sent anything.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionBudget, createApiHttpServer } from '../../../../../adapters/api/http-server.js';
import { startXmlRpcShim } from '../../../../../adapters/api/xmlrpc/server.js';
import { NEEDS_ROOT, methodCallXml, parseReply, sliver, startWorld, type ShimWorld } from '../../../../support/xmlrpc-harness.js';

const GET_RSPEC = methodCallXml('GetRSpec', ['<string>alice</string>']);
const cpuShare = (outcome: unknown) => (outcome as { result?: { cpu_share?: number } }).result?.cpu_share;

/** Writes `pieces` to the socket at `path` with `gapMs` between them, half-closes if asked, and returns all it is sent back. */
async function exchange(path: string, pieces: (string | Buffer)[], { gapMs = 0, halfClose = false } = {}): Promise<string> {
  const socket = createConnection(path);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await once(socket, 'connect');
  for (const [index, piece] of pieces.entries()) {
    if (index > 0 && gapMs > 0) await sleep(gapMs);
    socket.write(piece);
  }
  if (halfClose) socket.end();
  await once(socket, 'close');
  return Buffer.concat(received).toString('latin1');
}

/** An HTTP/1.0 call as forward_api_calls sends it (extra headers in latin1, the body in UTF-8). */
const http10 = (body: string, ...headers: string[]) =>
  Buffer.concat([Buffer.from([`POST / HTTP/1.0`, 'Content-Type: text/xml', `Content-Length: ${Buffer.byteLength(body)}`, ...headers, '', ''].join('\r\n'), 'latin1'), Buffer.from(body)]);
const withoutDate = (reply: string) => reply.replace(/\r\nDate: [^\r]*/, '\r\nDate: (now)');

describe('the plain-request path of the XML-RPC listeners', { timeout: 60_000 }, () => {
  let world: ShimWorld;
  let aliceUid: number;

  before(async () => {
    world = await startWorld();
    aliceUid = (await world.node.createAccount('alice', 'sliver')).uid;
    await world.store.create(sliver('alice', { rspec: { cpu_share: 32 } }));
  });
  after(async () => world?.close());

  test('answers with the bytes Node writes for the same call taken through its server', async () => {
    for (const body of [GET_RSPEC, methodCallXml('NoSuchMethod', []), '<methodCall><methodName>GetRecord</', methodCallXml('GetRSpec', ['<string>é &amp; ü</string>'])]) {
      const plain = await exchange(world.shim.socketPath, [http10(body)], { halfClose: true });
      // A byte outside visible ASCII in a header value keeps the call off the plain path; Node ignores the header.
      const throughNode = await exchange(world.shim.socketPath, [http10(body, 'X-Note: caf\xe9')], { halfClose: true });
      assert.match(plain, /^HTTP\/1\.1 200 OK\r\n/, body);
      assert.equal(withoutDate(plain), withoutDate(throughNode), body);
    }
  });

  test('a call that arrives in pieces, with or without a half-close, is answered whole', async () => {
    const whole = http10(GET_RSPEC);
    const cut = whole.indexOf('\r\n\r\n');
    // A byte at a time, too: past a few reads the plain path hands the request to Node's parser.
    const bytewise = [...Array.from({ length: 40 }, (_, i) => whole.subarray(i, i + 1)), whole.subarray(40)];
    for (const pieces of [[whole.subarray(0, 5), whole.subarray(5, cut), whole.subarray(cut, cut + 10), whole.subarray(cut + 10)], [whole.subarray(0, cut + 4), whole.subarray(cut + 4)], bytewise]) {
      for (const halfClose of [false, true]) {
        const reply = await exchange(world.shim.socketPath, pieces, { gapMs: pieces === bytewise ? 5 : 30, halfClose });
        const outcome = await parseReply(reply.slice(reply.indexOf('\r\n\r\n') + 4));
        assert.equal(cpuShare(outcome), 32, reply);
      }
    }
  });

  test('what it leaves to Node (keep-alive, HTTP/1.1, chunked bodies, other methods) is answered as before', async () => {
    const body = GET_RSPEC;
    const http11 = (extra = '') => `POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
    const socket = createConnection(world.shim.socketPath);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.write(http11());
    while ((text.match(/<\/methodResponse>/g) ?? []).length < 1) await sleep(10);
    socket.write(http11());
    while ((text.match(/<\/methodResponse>/g) ?? []).length < 2) await sleep(10);
    assert.equal(text.split('HTTP/1.1 200 OK\r\n').length - 1, 2, 'two answers on one kept-alive connection');
    assert.match(text, /Connection: keep-alive/);
    socket.destroy();

    const keptAlive = createConnection(world.shim.socketPath);
    let keptText = '';
    keptAlive.on('data', (chunk: Buffer) => (keptText += chunk.toString('latin1')));
    keptAlive.write(http10(body, 'Connection: keep-alive'));
    while (!keptText.includes('</methodResponse>')) await sleep(10);
    assert.match(keptText, /\r\nConnection: keep-alive\r\n/, 'an HTTP/1.0 client that asks for keep-alive gets it from Node');
    assert.equal(keptAlive.destroyed, false);
    keptAlive.destroy();

    const chunked = await exchange(world.shim.socketPath, [
      `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ]);
    assert.equal(cpuShare(await parseReply(chunked.slice(chunked.indexOf('\r\n\r\n') + 4))), 32, chunked);

    const get = await exchange(world.shim.socketPath, ['GET / HTTP/1.0\r\n\r\n']);
    assert.deepEqual(await parseReply(get.slice(get.indexOf('\r\n\r\n') + 4)), { fault: { code: 1, string: 'XML-RPC requests must be HTTP POST, not GET' } });
  });

  test("a request cut short by its peer gets Node's own answer to those bytes", async () => {
    // The reference: Node's server as the API listeners configure it, with nothing in front and a
    // handler that, like the shim's, answers once the body has come.
    const bare = createApiHttpServer(new ConnectionBudget(), (request, response) => {
      request.resume();
      request.on('end', () => response.end('whole'));
    });
    const barePath = join(world.dir, 'bare.sock');
    await new Promise<void>((resolve) => bare.listen(barePath, resolve));
    try {
      const whole = http10(GET_RSPEC);
      for (const cut of [7, whole.indexOf('\r\n\r\n') + 4, whole.length - 3]) {
        const ours = await exchange(world.shim.socketPath, [whole.subarray(0, cut)], { halfClose: true });
        const node = await exchange(barePath, [whole.subarray(0, cut)], { halfClose: true });
        assert.equal(ours, node, `first ${cut} bytes`);
      }
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });

  test('close() does not wait for a connection that sent nothing, half a call, or ended halfway through its body', async () => {
    const shim = await startXmlRpcShim({ store: world.store, node: world.node, socketPath: join(world.dir, 'closing.sock'), port: 0 });
    const silent = createConnection(shim.socketPath);
    const half = createConnection(shim.socketPath);
    await Promise.all([once(silent, 'connect'), once(half, 'connect')]);
    half.write('POST / HTTP/1.0\r\nContent-Le');
    // Its head whole, its body not: the call has begun, and must end when the peer half-closes or goes.
    const whole = http10(GET_RSPEC);
    const cutShort = await exchange(shim.socketPath, [whole.subarray(0, whole.length - 3)], { halfClose: true });
    assert.match(cutShort, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const dropped = createConnection(shim.socketPath);
    await once(dropped, 'connect');
    dropped.write(whole.subarray(0, whole.length - 3));
    await sleep(50);
    dropped.destroy();
    await sleep(50);
    const closed = Promise.all([once(silent, 'close'), once(half, 'close')]);
    await shim.close();
    await closed;
  });

  test('a sliver calling over the plain path is itself, an unknown uid no one', { skip: NEEDS_ROOT }, async () => {
    // As forward_api_calls calls: HTTP/1.0, the whole request, then a half-close.
    const client = `const s = require('node:net').connect(process.argv[1], () => s.end(process.argv[2])); let r = ''; s.on('data', (d) => (r += d)); s.on('end', () => process.stdout.write(r));`;
    const call = async (uid: number) => {
      const child = spawn('/usr/bin/node', ['-e', client, world.shim.socketPath, http10(methodCallXml('GetRecord', [])).toString()], { uid, gid: uid, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
      let reply = '';
      child.stdout.on('data', (chunk: Buffer) => (reply += chunk.toString()));
      await once(child, 'close');
      return parseReply(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    };
    assert.equal(((await call(aliceUid)) as { result: { name: string } }).result.name, 'alice');
    const stranger = await call(65533);
    assert.ok('fault' in stranger, JSON.stringify(stranger));
  });
});
