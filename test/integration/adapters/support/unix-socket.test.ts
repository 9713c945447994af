// adapters/support/unix-socket.ts on real sockets: the one rule every API listener follows for its
// socket path (stale replaced, live or foreign refused, unsafe directories refused, release only
// removes our own file).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SocketPathError } from '../../../../resources/errors.js';
import { listenUnixSocket } from '../../../../adapters/support/unix-socket.js';
import { OWNER_NAME } from '../../../support/host-needs.js';

const dir = mkdtempSync(join(tmpdir(), 'slv-unix-socket-'));
const servers: Server[] = [];
after(() => {
  servers.forEach((server) => server.close());
  rmSync(dir, { recursive: true, force: true });
});

function echoServer(): Server {
  const server = createServer((socket) => socket.on('error', () => undefined).end('ok')); // probes hang up at once
  servers.push(server);
  return server;
}

function answers(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    connect(path)
      .on('data', (chunk) => (text += chunk.toString()))
      .on('end', () => resolve(text))
      .on('error', reject);
  });
}

const refusedWith = (pattern: RegExp) => (error: unknown) => error instanceof SocketPathError && pattern.test(error.message);

test('a free path: listens with the mode asked for; release removes the file', async () => {
  const path = join(dir, 'free.sock');
  const listener = await listenUnixSocket(echoServer(), path, { mode: 0o666 });
  assert.equal(lstatSync(path).mode & 0o777, 0o666);
  assert.equal(await answers(path), 'ok');
  await listener.release();
  assert.throws(() => lstatSync(path), /ENOENT/);
});

test('a socket left by a dead server is replaced; a live one and a non-socket are refused untouched', async () => {
  const stale = join(dir, 'stale.sock');
  execFileSync('/usr/bin/python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stale]);
  const listener = await listenUnixSocket(echoServer(), stale, { mode: 0o600 });
  assert.equal(await answers(stale), 'ok');

  await assert.rejects(listenUnixSocket(echoServer(), stale, { mode: 0o600 }), refusedWith(new RegExp(`another server \\(the socket belongs to ${OWNER_NAME}\\) is listening on it`)));
  assert.equal(await answers(stale), 'ok', 'the live server still answers');
  await listener.release();

  const file = join(dir, 'file');
  writeFileSync(file, 'keep me');
  await assert.rejects(listenUnixSocket(echoServer(), file, { mode: 0o666 }), refusedWith(new RegExp(`it exists, owned by ${OWNER_NAME}, and is not a socket`)));
  assert.ok(lstatSync(file).isFile());
});

test('a directory others may write to is refused unless sticky; a missing one is created 0755 on request', async () => {
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  await assert.rejects(listenUnixSocket(echoServer(), join(open, 'api.sock'), { mode: 0o666 }), refusedWith(/writable by other users and not sticky/));
  assert.throws(() => lstatSync(join(open, 'api.sock')), /ENOENT/);

  const sticky = join(dir, 'sticky');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777); // as /tmp
  const inSticky = await listenUnixSocket(echoServer(), join(sticky, 'api.sock'), { mode: 0o666 });
  await inSticky.release();

  const created = join(dir, 'run', 'slv', 'api.sock');
  const inCreated = await listenUnixSocket(echoServer(), created, { mode: 0o666, createDirectory: true });
  assert.equal(lstatSync(join(dir, 'run', 'slv')).mode & 0o7777, 0o755);
  await inCreated.release();
});

test('a directory another user owns is refused: they could swap the socket', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
  const theirs = join(dir, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  chownSync(theirs, 65534, 65534);
  await assert.rejects(listenUnixSocket(echoServer(), join(theirs, 'api.sock'), { mode: 0o666 }), refusedWith(/belongs to uid 65534, who could replace the socket/));
});

test('release leaves a successor’s socket alone', async () => {
  const path = join(dir, 'handover.sock');
  const first = echoServer();
  const listener = await listenUnixSocket(first, path, { mode: 0o666 });
  await new Promise((resolve) => first.close(resolve)); // closing a listening Unix server removes its file
  const successor = await listenUnixSocket(echoServer(), path, { mode: 0o666 });
  await listener.release();
  assert.equal(await answers(path), 'ok');
  await successor.release();
});
