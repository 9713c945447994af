// adapters/api/identity/peercred.ts against real sockets: a Unix peer in this process, a Unix peer running as
// another uid, and a TCP peer (which must never yield an identity).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { peerCredentials } from '../../../../../adapters/api/identity/peercred.js';
import { SlvError } from '../../../../../resources/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'slv-peercred-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Start listening, connect a client once listening, and resolve with the server side of that connection. */
function acceptOne(server: Server, listen: (done: () => void) => void, connect: () => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    server.once('connection', resolve);
    server.once('error', reject);
    listen(connect);
  });
}

test('a Unix-socket peer in this process is identified by the kernel', { timeout: 10_000 }, async () => {
  const path = join(dir, 'self.sock');
  const server = createServer();
  let client: Socket | undefined;
  const socket = await acceptOne(
    server,
    (done) => server.listen(path, done),
    () => (client = createConnection(path)),
  );
  try {
    const credentials = peerCredentials(socket);
    assert.equal(credentials.uid, process.getuid?.());
    assert.equal(credentials.gid, process.getgid?.());
    assert.equal(credentials.pid, process.pid);
    // Cached on the socket: still answered after the descriptor is gone.
    socket.destroy();
    assert.deepEqual(peerCredentials(socket), credentials);
  } finally {
    client?.destroy();
    server.close();
  }
});

test('a peer running as another uid is seen with that uid', { timeout: 10_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run a client as uid 65534');
    return;
  }
  const path = join(dir, 'other.sock');
  const server = createServer();
  let child: ReturnType<typeof execFile> | undefined;
  const socket = await acceptOne(
    server,
    (done) =>
      server.listen(path, () => {
        chmodSync(path, 0o666);
        done();
      }),
    () => {
      const script = `const c = require('node:net').createConnection(${JSON.stringify(path)}); c.on('data', () => c.end());`;
      child = execFile('/usr/bin/node', ['-e', script], { uid: 65534, gid: 65534, timeout: 8_000 });
    },
  );
  try {
    const credentials = peerCredentials(socket);
    assert.equal(credentials.uid, 65534);
    assert.equal(credentials.gid, 65534);
    assert.equal(credentials.pid, child?.pid);
  } finally {
    socket.end('bye');
    server.close();
  }
});

test('a TCP peer is refused, never given an identity', { timeout: 10_000 }, async () => {
  const server = createServer();
  let client: Socket | undefined;
  const socket = await acceptOne(
    server,
    (done) => server.listen(0, '127.0.0.1', done),
    () => {
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      client = createConnection(address.port, '127.0.0.1');
    },
  );
  try {
    assert.throws(
      () => peerCredentials(socket),
      (error: unknown) => error instanceof SlvError && error.reason === 'Unauthorized' && /only Unix-socket peers/.test(error.message),
    );
  } finally {
    client?.destroy();
    socket.destroy();
    server.close();
  }
});
