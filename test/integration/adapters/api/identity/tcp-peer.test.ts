// adapters/api/identity/tcp-peer.ts against the kernel: real loopback connections from processes running as
// other uids, over IPv4, IPv6 and IPv4-mapped IPv6, and a peer that has already gone away.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { endianness } from 'node:os';
import { after, describe, test } from 'node:test';
import { addressBytes, parseProcNetTcp, tcpPeerUid } from '../../../../../adapters/api/identity/tcp-peer.js';
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

function lookup(accepted: Accepted): Promise<number | undefined> {
  return tcpPeerUid(accepted.local, accepted.remote);
}

describe('tcpPeerUid', { ...TIMEOUT, skip: NEEDS_ROOT }, () => {
  test('finds the uid of an IPv4 loopback peer', async () => {
    const accepted = await connectAs(12345, '127.0.0.1', '127.0.0.1');
    const { socket, client } = accepted;
    assert.equal(await lookup(accepted), 12345);
    socket.destroy();
    await once(client, 'exit');
  });

  test('an IPv4 client of a dual-stack server (seen as ::ffff:127.0.0.1)', { skip: !hasIPv6Loopback && 'no IPv6 loopback here' }, async () => {
    const accepted = await connectAs(23456, '::', '127.0.0.1');
    const { socket, client } = accepted;
    assert.equal(socket.remoteAddress, '::ffff:127.0.0.1');
    assert.equal(await lookup(accepted), 23456);
    socket.destroy();
    await once(client, 'exit');
  });

  test('an IPv6 loopback peer', { skip: !hasIPv6Loopback && 'no IPv6 loopback here' }, async () => {
    const accepted = await connectAs(34567, '::1', '::1');
    const { socket, client } = accepted;
    assert.equal(await lookup(accepted), 34567);
    socket.destroy();
    await once(client, 'exit');
  });

  test('a peer that already closed is unknown (its leftover row is not taken for it, nor for root)', async () => {
    const accepted = await connectAs(45678, '127.0.0.1', '127.0.0.1');
    const { socket, client, local, remote } = accepted;
    client.kill('SIGKILL');
    await once(client, 'exit');
    // The orphaned client socket may still be listed (FIN_WAIT*, TIME_WAIT) with inode 0 and a uid
    // of 0 or of the dead owner: neither may be taken for the caller.
    const row = parseProcNetTcp(readFileSync('/proc/net/tcp', 'utf8')).find((r) => r.local.port === remote.port && r.remote.port === local.port);
    if (row) assert.equal(row.inode, 0);
    assert.equal(await lookup(accepted), undefined);
    socket.destroy();
  });

  test('no such connection: undefined', async () => {
    assert.equal(await tcpPeerUid({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }), undefined);
  });
});

describe('socket table parsing', () => {
  test('addresses of both families compare as 16 bytes', () => {
    assert.deepEqual(addressBytes('127.0.0.1'), addressBytes('::ffff:127.0.0.1'));
    assert.deepEqual(addressBytes('::1'), Buffer.from('00000000000000000000000000000001', 'hex'));
    assert.deepEqual(addressBytes('fe80::1:2%eth0'), Buffer.from('fe800000000000000000000000010002', 'hex'));
    assert.deepEqual(addressBytes('2001:db8::'), Buffer.from('20010db8000000000000000000000000', 'hex'));
    assert.throws(() => addressBytes('localhost'), /not an IP address/);
  });

  test('rows as the kernel prints them on a little-endian host', { skip: endianness() !== 'LE' && 'big-endian host' }, () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000  1001        0 73214 1 0000000000000000 20 4 30 10 -1',
      '   1: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:D431 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000',
      '   2: garbage',
    ].join('\n');
    const rows = parseProcNetTcp(text);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], { local: { address: addressBytes('127.0.0.1'), port: 3000 }, remote: { address: addressBytes('127.0.0.1'), port: 0xa2c4 }, uid: 1001, inode: 73214 });
    assert.deepEqual(rows[1], { local: { address: addressBytes('::1'), port: 8080 }, remote: { address: addressBytes('127.0.0.1'), port: 0xd431 }, uid: 0, inode: 0 });
  });
});
