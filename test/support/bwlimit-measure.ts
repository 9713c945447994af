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
export function transfer(pair: NetnsPair, uid: number, address: string, closeAfterBytes?: number): Promise<number> {
  const receiveArgs = closeAfterBytes === undefined ? ['receive', String(SKIP_S), String(WINDOW_S)] : ['receive-all'];
  return measure(pair.receiver, receiveArgs, (port) => ({
    file: 'ip',
    args: [
      'netns',
      'exec',
      pair.sender,
      'setpriv',
      '--reuid',
      String(uid),
      '--regid',
      String(uid),
      '--clear-groups',
      PYTHON,
      transferScript(),
      'send',
      address,
      String(port),
      ...(closeAfterBytes === undefined ? [] : [String(closeAfterBytes)]),
    ],
    what: `sender (uid ${uid})`,
  }));
}

/**
 * A streaming transfer sent by `sender` (the command for a port: it must stream zeros to the
 * receiver at `port` until the receiver closes), received in namespace `receiverNetns`; resolves
 * with the bit/s over the steady window. A sender that ends with an error when the receiver closes
 * is fine (`nc` does): one that never connected fails the receiver's accept.
 */
export function streamFrom(receiverNetns: string, sender: (port: number) => { file: string; args: string[] }): Promise<number> {
  return measure(receiverNetns, ['receive', String(SKIP_S), String(WINDOW_S)], (port) => ({ ...sender(port), what: 'sender', anyExit: true }));
}

async function measure(receiverNetns: string, receiveArgs: string[], sender: (port: number) => { file: string; args: string[]; what: string; anyExit?: boolean }): Promise<number> {
  const port = nextPort++;
  const [mode, ...modeArgs] = receiveArgs;
  const receiver = spawn('ip', ['netns', 'exec', receiverNetns, PYTHON, transferScript(), mode!, String(port), ...modeArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  receiver.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  receiver.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const receiverExit = once(receiver, 'exit');
  while (!out.includes('listening')) {
    await Promise.race([once(receiver.stdout, 'data'), receiverExit]);
    if (receiver.exitCode !== null) throw new Error(`receiver exited ${receiver.exitCode}: ${err}`);
  }
  const command = sender(port);
  const child = spawn(command.file, command.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let senderErr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (senderErr += chunk));
  const [[code], [senderCode]] = await Promise.all([receiverExit, once(child, 'exit')]);
  assert.equal(code, 0, `receiver failed: ${err}${senderErr ? `\n${command.what}: ${senderErr}` : ''}`);
  if (!command.anyExit) assert.equal(senderCode, 0, `${command.what} failed: ${senderErr}`);
  return (JSON.parse(out.slice(out.indexOf('{'))) as { bits_per_second: number }).bits_per_second;
}

export function assertNear(measured: number, expected: number, what: string): void {
  const low = expected * (1 - TOLERANCE);
  const high = expected * (1 + TOLERANCE);
  assert.ok(measured >= low && measured <= high, `${what}: measured ${(measured / 1e6).toFixed(2)} Mbit/s, expected ${(expected / 1e6).toFixed(2)} ±${TOLERANCE * 100} %`);
}
