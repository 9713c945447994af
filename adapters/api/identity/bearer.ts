// Caller identity on the HTTPS listener, for clients on other hosts (whose uid no kernel here can
// name): an `Authorization: Bearer` token from the token file (resources/api-tokens.ts) stands for
// a uid, and that uid is resolved to a Caller exactly as the Unix socket's peer uid is, so one
// authorization (resources/authz.ts) applies everywhere. Any API server (node or fleet) can use it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { bearerToken, parseTokenFile, type TokenIdentity } from '../../../resources/api-tokens.js';
import type { Caller } from '../../../resources/authz.js';
import { SlvError, UsageError } from '../../../resources/errors.js';
import type { NodeAdapter } from '../../node/contract.js';
import { resolveCaller } from './caller.js';

interface StoredToken {
  digest: Buffer;
  user: string;
  uid: number;
}

const digestOf = (token: string) => createHash('sha256').update(token, 'utf8').digest();

function unauthorized(why: string): SlvError {
  return new SlvError('Unauthorized', why);
}

/** The tokens of a token file, matched in constant time; `load` replaces them (SIGHUP). */
export class BearerTokens {
  private tokens: StoredToken[] = [];

  constructor(entries: readonly TokenIdentity[] = []) {
    this.replace(entries);
  }

  replace(entries: readonly TokenIdentity[]): void {
    this.tokens = entries.map(({ token, user, uid }) => ({ digest: digestOf(token), user, uid }));
  }

  get size(): number {
    return this.tokens.length;
  }

  /**
   * The identity of a presented token. Digests of equal length are compared with every stored
   * one, without stopping at a match, so the time taken says nothing about any token.
   */
  match(token: string): Omit<StoredToken, 'digest'> | undefined {
    const presented = digestOf(token);
    let found: StoredToken | undefined;
    for (const stored of this.tokens) {
      if (timingSafeEqual(presented, stored.digest)) found = stored;
    }
    return found && { user: found.user, uid: found.uid };
  }

  /**
   * The caller a request's bearer token stands for, or 401. The token's uid must still be the
   * account the file names: a uid freed and given to another sliver does not inherit the token.
   */
  async callerOf(req: IncomingMessage, accounts: Pick<NodeAdapter, 'accountNameByUid'>): Promise<Caller> {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) throw unauthorized('this listener needs an "Authorization: Bearer" token');
    const identity = this.match(token);
    if (identity === undefined) throw unauthorized('the bearer token is not known');
    const caller = await resolveCaller(identity.uid, accounts);
    if (caller.account !== identity.user) {
      throw unauthorized(`the token is for "${identity.user}" (uid ${identity.uid}), but uid ${identity.uid} is ${caller.account === undefined ? 'no account' : `"${caller.account}"`} on this node`);
    }
    return caller;
  }
}

/**
 * Read a token file. It holds secrets: one that others may read (or write) is refused, as ssh
 * refuses such key files.
 */
export function readTokenFile(file: string): TokenIdentity[] {
  let text: string;
  try {
    const mode = statSync(file).mode;
    if (mode & 0o077) throw new UsageError(`token file ${file} is open to other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read token file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseTokenFile(text, file);
}
