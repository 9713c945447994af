// Real TCP transfers across a netns pair, sent as a given uid and measured on the receiver over
// the steady part (after the first second): the bwlimit tests' measuring stick. A correctness
// check with a tolerance band, not a timing assertion. The receiver counts TCP payload while HTB
// counts whole frames, so payload reads about 4.5 % under a class ceiling.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { NetnsPair } from './netns.js';
import { processStagingDir, stageFile } from './staging.js';

let stagedTransfer: string | undefined;
/** The transfer script where the sending uid can read it. */
function transferScript(): string {
  stagedTransfer ??= stageFile(new URL('../fixtures/bwlimit-transfer.py', import.meta.url), processStagingDir());
  return stagedTransfer;
}
const PYTHON = '/usr/bin/python3';
const SKIP_S = 1;
const WINDOW_S = 4;
export const TOLERANCE = 0.25;
/** Not a sliver anywhere: its traffic takes the default class, held only by the node cap. */
export const UNLIMITED_UID = 65534;

let nextPort = 5001;

/**
 * Run one transfer from `uid` in the pair's sender namespace to `address`; resolves with the bit/s
 * the receiver measured. A streaming transfer is measured over the steady window; with
 * `closeAfterBytes` the sender queues that much and closes at once, and the whole transfer is measured.
 */
export async function transfer(pair: NetnsPair, uid: number, address: string, closeAfterBytes?: number): Promise<number> {
  const port = nextPort++;
  const receiveArgs = closeAfterBytes === undefined ? ['receive', String(port), String(SKIP_S), String(WINDOW_S)] : ['receive-all', String(port)];
  const sendArgs = ['send', address, String(port), ...(closeAfterBytes === undefined ? [] : [String(closeAfterBytes)])];
  const receiver = spawn('ip', ['netns', 'exec', pair.receiver, PYTHON, transferScript(), ...receiveArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  receiver.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  receiver.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const receiverExit = once(receiver, 'exit');
  while (!out.includes('listening')) {
    await Promise.race([once(receiver.stdout, 'data'), receiverExit]);
    if (receiver.exitCode !== null) throw new Error(`receiver exited ${receiver.exitCode}: ${err}`);
  }
  const sender = spawn(
    'ip',
    ['netns', 'exec', pair.sender, 'setpriv', '--reuid', String(uid), '--regid', String(uid), '--clear-groups', PYTHON, transferScript(), ...sendArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let senderErr = '';
  sender.stderr.setEncoding('utf8').on('data', (chunk: string) => (senderErr += chunk));
  const [[code], [senderCode]] = await Promise.all([receiverExit, once(sender, 'exit')]);
  assert.equal(code, 0, `receiver failed: ${err}`);
  assert.equal(senderCode, 0, `sender (uid ${uid}) failed: ${senderErr}`);
  return (JSON.parse(out.slice(out.indexOf('{'))) as { bits_per_second: number }).bits_per_second;
}

export function assertNear(measured: number, expected: number, what: string): void {
  const low = expected * (1 - TOLERANCE);
  const high = expected * (1 + TOLERANCE);
  assert.ok(measured >= low && measured <= high, `${what}: measured ${(measured / 1e6).toFixed(2)} Mbit/s, expected ${(expected / 1e6).toFixed(2)} ±${TOLERANCE * 100} %`);
}
