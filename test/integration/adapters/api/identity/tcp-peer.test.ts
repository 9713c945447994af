// adapters/api/identity/tcp-peer.ts against the kernel (one sock_diag query per connection): real
// loopback connections from processes running as other uids, over IPv4, IPv6 and IPv4-mapped IPv6,
// and a peer that has already gone away.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { tcpPeerUid } from '../../../../../adapters/api/identity/tcp-peer.js';
import { NEEDS_ROOT } from '../../../../support/xmlrpc-harness.js';

const TIMEOUT = { timeout: 30_000 };
const hasIPv6Loopback = readFileSync('/proc/net/if_inet6', 'utf8').includes('00000000000000000000000000000001');

// Connects, says hello, then waits for the server to close the connection.
const CLIENT = `
import socket, sys
family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.settimeout(20)
s.connect((sys.argv[1], int(sys.argv[2])))
s.sendall(b'hello')
s.recv(1)
`;

interface Accepted {
  socket: Socket;
  client: ChildProcess;
  /** The connection's endpoints as the server saw them at accept time. */
  local: { address: string; port: number };
  remote: { address: string; port: number };
}

const servers: Server[] = [];
after(() => servers.forEach((server) => server.close()));

async function connectAs(uid: number, listenHost: string, connectHost: string): Promise<Accepted> {
  const server = createServer();
  servers.push(server);
  server.listen(0, listenHost);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = spawn('/usr/bin/python3', ['-c', CLIENT, connectHost, String(port)], { uid, gid: uid, stdio: 'ignore' });
  const [socket] = (await once(server, 'connection')) as [Socket];
  await once(socket, 'data'); // the client is connected and its socket is in the table
  return { socket, client, local: { address: socket.localAddress!, port: socket.localPort! }, remote: { address: socket.remoteAddress!, port: socket.remotePort! } };
}

function lookup(accepted: Accepted): number | undefined {
  return tcpPeerUid(accepted.local, accepted.remote);
}

describe('tcpPeerUid', { ...TIMEOUT, skip: NEEDS_ROOT }, () => {
  test('finds the uid of an IPv4 loopback peer', async () => {
    const accepted = await connectAs(12345, '127.0.0.1', '127.0.0.1');
    const { socket, client } = accepted;
    assert.equal(lookup(accepted), 12345);
    socket.destroy();
    await once(client, 'exit');
  });

  test('an IPv4 client of a dual-stack server (seen as ::ffff:127.0.0.1)', { skip: !hasIPv6Loopback && 'no IPv6 loopback here' }, async () => {
    const accepted = await connectAs(23456, '::', '127.0.0.1');
    const { socket, client } = accepted;
    assert.equal(socket.remoteAddress, '::ffff:127.0.0.1');
    assert.equal(lookup(accepted), 23456);
    socket.destroy();
    await once(client, 'exit');
  });

  test('an IPv6 loopback peer', { skip: !hasIPv6Loopback && 'no IPv6 loopback here' }, async () => {
    const accepted = await connectAs(34567, '::1', '::1');
    const { socket, client } = accepted;
    assert.equal(lookup(accepted), 34567);
    socket.destroy();
    await once(client, 'exit');
  });

  test('a peer that already closed is unknown (its leftover row is not taken for it, nor for root)', async () => {
    const accepted = await connectAs(45678, '127.0.0.1', '127.0.0.1');
    const { socket, client } = accepted;
    client.kill('SIGKILL');
    await once(client, 'exit');
    // The orphaned client socket may linger (FIN_WAIT*, TIME_WAIT) with inode 0 and a uid of 0 or
    // of the dead owner: neither may be taken for the caller.
    assert.equal(lookup(accepted), undefined);
    socket.destroy();
  });

  test('no such connection: undefined', async () => {
    assert.equal(tcpPeerUid({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }), undefined);
  });
});
