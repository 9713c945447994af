// native/forward_api_calls.c, built with native/Makefile, against the shim on a real Unix socket
// and against misbehaving servers: the reply body on stdout, or a faultCode 1 fault and exit 1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { NEEDS_ROOT, buildForwardApiCalls, methodCallXml, parseReply, runWithInput, sliver, startWorld, type ShimWorld } from '../../../support/xmlrpc-harness.js';

const TIMEOUT = { timeout: 60_000, skip: NEEDS_ROOT };

describe('forward_api_calls', TIMEOUT, () => {
  let world: ShimWorld;
  let forward: string;
  let aliceUid: number;
  const servers: Server[] = [];

  before(async () => {
    world = await startWorld();
    forward = buildForwardApiCalls(world.dir, world.shim.socketPath);
    aliceUid = (await world.node.createAccount('alice', 'sliver')).uid;
    await world.store.create(sliver('alice', { rspec: { cpu_share: 48 } }));
    await world.store.create(sliver('bob'));
  });
  after(async () => {
    servers.forEach((server) => server.close());
    await world?.close();
  });

  /** A Unix-socket server in the world dir that handles each connection with `onConnection`. */
  async function fakeApi(name: string, onConnection: (socket: Socket) => void): Promise<string> {
    const path = join(world.dir, name);
    const server = createServer({ allowHalfOpen: true }, onConnection); // the client half-closes after its request
    servers.push(server);
    server.listen(path);
    await once(server, 'listening');
    return path;
  }

  async function faultOf(result: { code: number | null; stdout: string }): Promise<{ code: number; string: string }> {
    assert.equal(result.code, 1);
    const outcome = await parseReply(result.stdout);
    assert.ok('fault' in outcome, result.stdout);
    return outcome.fault;
  }

  test('forwards one call with the caller identified by its uid, the body alone on stdout', async () => {
    const result = await runWithInput(forward, [], methodCallXml('GetRecord', []), { uid: aliceUid });
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /^<\?xml version="1.0"\?><methodResponse>/);
    const outcome = await parseReply(result.stdout);
    assert.ok('result' in outcome);
    assert.equal((outcome.result as { name: string }).name, 'alice');

    // The API's own faults pass through unchanged (exit 0: the call was forwarded).
    const denied = await runWithInput(forward, [], methodCallXml('GetRSpec', ['<string>bob</string>']), { uid: aliceUid });
    assert.equal(denied.code, 0);
    assert.deepEqual(await parseReply(denied.stdout), { fault: { code: 108, string: 'Permission denied.' } });
  });

  test('the socket path: build-time default, SLV_API_SOCKET overrides', async () => {
    const elsewhere = buildForwardApiCalls(freshDir(), '/nonexistent/api.sock');
    assert.deepEqual(await faultOf(await runWithInput(elsewhere, [], methodCallXml('Help', []))), {
      code: 1,
      string: 'forward_api_calls: connect(/nonexistent/api.sock): No such file or directory',
    });
    const viaEnv = await runWithInput(elsewhere, [], methodCallXml('Help', []), { env: { SLV_API_SOCKET: world.shim.socketPath } });
    assert.equal(viaEnv.code, 0);
    assert.match(viaEnv.stdout, /GetRSpec\(sliver_name\)/);
  });

  test('a request over 1 MiB is refused with a fault, not truncated', async () => {
    const body = methodCallXml('GetRSpec', [`<string>${'a'.repeat(1024 * 1024)}</string>`]);
    assert.deepEqual(await faultOf(await runWithInput(forward, [], body)), { code: 1, string: 'forward_api_calls: request larger than 1048576 bytes refused' });
    // Just under the limit goes through, whole: the shim sees the full name and answers 102.
    const justUnder = methodCallXml('GetRSpec', [`<string>${'a'.repeat(1024 * 1024 - 200)}</string>`]);
    const result = await runWithInput(forward, [], justUnder);
    assert.equal(result.code, 0);
    assert.deepEqual(await parseReply(result.stdout), { fault: { code: 102, string: 'Invalid argument: the first argument must be a sliver name.' } });
  });

  test('a server that hangs up, answers non-200 or never answers gets a fault', async () => {
    const hangUp = await fakeApi('hangup.sock', (socket) => socket.end());
    const notFound = await fakeApi('404.sock', (socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    const silent = await fakeApi('silent.sock', (socket) => socket.on('data', () => undefined));
    const run = (path: string, binary = forward) => runWithInput(binary, [], methodCallXml('Help', []), { env: { SLV_API_SOCKET: path } });

    assert.deepEqual(await faultOf(await run(hangUp)), { code: 1, string: 'forward_api_calls: the API closed the connection before the end of the reply header' });
    assert.deepEqual(await faultOf(await run(notFound)), { code: 1, string: 'forward_api_calls: the API answered HTTP/1.1 404 Not Found' });
    const quick = buildForwardApiCalls(freshDir(), world.shim.socketPath, '-DTIMEOUT_SECONDS=1');
    assert.deepEqual(await faultOf(await run(silent, quick)), { code: 1, string: 'forward_api_calls: no complete reply within 1 s' });
  });

  test('half-closing after the request, it gets the answer of a slow call: SetLoans with several loans', async () => {
    const loans =
      '<array><data>' +
      [1, 2, 3].map((amount) => `<value><array><data><value><string>bob</string></value><value><string>cpu_share</string></value><value><int>${amount}</int></value></data></array></value>`).join('') +
      '</data></array>';
    for (let round = 0; round < 5; round++) {
      const result = await runWithInput(forward, [], methodCallXml('SetLoans', ['<string>alice</string>', loans]), { uid: aliceUid });
      assert.equal(result.code, 0, result.stdout);
      assert.deepEqual(await parseReply(result.stdout), { result: 1 });
    }
    const listed = await runWithInput(forward, [], methodCallXml('GetLoans', ['<string>alice</string>']), { uid: aliceUid });
    assert.deepEqual(await parseReply(listed.stdout), {
      result: [
        ['bob', 'cpu_share', 1],
        ['bob', 'cpu_share', 2],
        ['bob', 'cpu_share', 3],
      ],
    });
  });

  test('a server not running as root gets nothing: the impostor is refused before the call is sent', async () => {
    const open = freshDir();
    chmodSync(open, 0o777); // as /tmp without the sticky bit: anyone may put a socket here
    const path = join(open, 'sliver_mgr.api');
    const received = join(open, 'received');
    // Listens as uid 65534, records how many bytes the client sent, answers a forged result.
    const impostor = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(5)
data = b''
try:
    while True:
        chunk = c.recv(65536)
        if not chunk: break
        data += chunk
        if b'</methodCall>' in data: break
except socket.timeout:
    pass
open(sys.argv[2], 'w').write(str(len(data)))
body = b'<?xml version="1.0"?><methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>'
c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body) + body)
c.close()
`;
    const child = spawn('/usr/bin/python3', ['-c', impostor, path, received], { uid: 65534, gid: 65534, stdio: 'ignore' });
    const exited = once(child, 'exit');
    for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await runWithInput(forward, [], methodCallXml('SetLoans', ['<string>alice</string>', '<array><data></data></array>']), { uid: aliceUid, env: { SLV_API_SOCKET: path } });
    await exited;
    assert.deepEqual(await faultOf(result), { code: 1, string: `forward_api_calls: the server on ${path} runs as uid 65534, not 0: refusing to send the call` });
    assert.equal(readFileSync(received, 'utf8'), '0', 'the impostor received nothing');
  });

  let dirs = 0;
  function freshDir(): string {
    const dir = join(world.dir, `build-${++dirs}`);
    mkdirSync(dir, { mode: 0o755 });
    return dir;
  }
});
