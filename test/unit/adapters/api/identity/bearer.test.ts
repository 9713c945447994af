// Bearer tokens to callers: the token's uid resolved as the Unix socket resolves a peer uid, and
// refused when that uid is no longer the account the token names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { BearerTokens } from '../../../../../adapters/api/identity/bearer.js';
import { SlvError } from '../../../../../resources/errors.js';

const ROOT_TOKEN = '0'.repeat(64);
const RON_TOKEN = `${'1'.repeat(63)}2`;
const ACCOUNTS = new Map([[1001, 'mit_ron']]);
const node = { accountNameByUid: async (uid: number) => ACCOUNTS.get(uid) };
const requestWith = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

function tokens(): BearerTokens {
  return new BearerTokens([
    { token: ROOT_TOKEN, user: 'root', uid: 0 },
    { token: RON_TOKEN, user: 'mit_ron', uid: 1001 },
  ]);
}

async function refused(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof SlvError && error.reason === 'Unauthorized' && error.code === 401 && message.test(error.message));
}

test('a known token is the caller of its uid, as the socket names it; tokens differing in one character are told apart', async () => {
  const known = tokens();
  assert.deepEqual(await known.callerOf(requestWith(`Bearer ${ROOT_TOKEN}`), node), { uid: 0, account: 'root' });
  assert.deepEqual(await known.callerOf(requestWith(`Bearer ${RON_TOKEN}`), node), { uid: 1001, account: 'mit_ron' });
  assert.equal(known.match(`${'1'.repeat(63)}3`), undefined);
  assert.equal(known.match(RON_TOKEN.slice(1)), undefined);
});

test('no token, another scheme or an unknown token: 401', async () => {
  const known = tokens();
  await refused(known.callerOf(requestWith(), node), /needs an "Authorization: Bearer" token/);
  await refused(known.callerOf(requestWith(`Basic ${RON_TOKEN}`), node), /needs an "Authorization: Bearer" token/);
  await refused(known.callerOf(requestWith(`Bearer ${'9'.repeat(64)}`), node), /the bearer token is not known/);
});

test('a token whose uid is now another account, or none, is refused: a freed uid does not inherit the token', async () => {
  const known = new BearerTokens([{ token: RON_TOKEN, user: 'pl_netflow', uid: 1001 }]);
  await refused(known.callerOf(requestWith(`Bearer ${RON_TOKEN}`), node), /the token is for "pl_netflow" \(uid 1001\), but uid 1001 is "mit_ron" on this node/);
  const gone = new BearerTokens([{ token: RON_TOKEN, user: 'alice', uid: 1005 }]);
  await refused(gone.callerOf(requestWith(`Bearer ${RON_TOKEN}`), node), /uid 1005 is no account on this node/);
});

test('replace swaps every token at once (SIGHUP): a removed token stops working', async () => {
  const known = tokens();
  known.replace([{ token: ROOT_TOKEN, user: 'root', uid: 0 }]);
  assert.equal(known.size, 1);
  await refused(known.callerOf(requestWith(`Bearer ${RON_TOKEN}`), node), /not known/);
  assert.deepEqual(await known.callerOf(requestWith(`Bearer ${ROOT_TOKEN}`), node), { uid: 0, account: 'root' });
});
