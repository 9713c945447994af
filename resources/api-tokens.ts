// The bearer tokens of the REST API's HTTPS listener (docs/kubectl.md "Remote use", docs/security.md):
// a file in the format of kube-apiserver's --token-auth-file, one `token,user,uid` line per token.
// A token stands for a uid on this node, so a caller presenting it is authorized exactly as a
// local process of that uid on the Unix socket; `user` is the account that uid must still have.
// Pure: the file is read by the adapter. No message here ever contains a token.
import { UsageError } from './errors.js';
import { ROOT_UID } from './authz.js';

export interface TokenIdentity {
  token: string;
  /** The account name the uid must have on this node ("root" for uid 0). */
  user: string;
  uid: number;
}

/** Long enough that guessing is hopeless (`openssl rand -hex 32` gives 64). */
export const MIN_TOKEN_LENGTH = 32;
/** What an HTTP header can carry without quoting: no spaces, no commas (the file's separator). */
const TOKEN_CHARACTERS = /^[A-Za-z0-9._~+/=-]+$/;
const ACCOUNT_NAME = /^[a-z_][a-z0-9_.-]*$/;
const ROOT_ACCOUNT = 'root';

function parseLine(line: string, where: string): TokenIdentity {
  const fields = line.split(',').map((field) => field.trim());
  if (fields.length !== 3) {
    const extra = fields.length > 3 ? ' (groups are not used: authorization follows the account, as on the Unix socket)' : '';
    throw new UsageError(`${where}: expected token,user,uid, got ${fields.length} field${fields.length === 1 ? '' : 's'}${extra}`);
  }
  const [token, user, uidText] = fields as [string, string, string];
  if (token.length < MIN_TOKEN_LENGTH) throw new UsageError(`${where}: the token is shorter than ${MIN_TOKEN_LENGTH} characters`);
  if (!TOKEN_CHARACTERS.test(token)) throw new UsageError(`${where}: the token may only hold letters, digits and . _ ~ + / = -`);
  if (!ACCOUNT_NAME.test(user)) throw new UsageError(`${where}: user ${JSON.stringify(user)} is not an account name`);
  if (!/^\d+$/.test(uidText) || Number(uidText) > 4_294_967_294) throw new UsageError(`${where}: uid ${JSON.stringify(uidText)} is not a uid`);
  const uid = Number(uidText);
  if ((uid === ROOT_UID) !== (user === ROOT_ACCOUNT)) throw new UsageError(`${where}: uid 0 is "root", and "root" is uid 0 (got user "${user}", uid ${uid})`);
  return { token, user, uid };
}

/**
 * The tokens of a token file: blank lines and `#` comments skipped. Any bad line refuses the whole
 * file (naming the line, never the token): a half-read file would silently lock someone out.
 */
export function parseTokenFile(text: string, file: string): TokenIdentity[] {
  const entries: TokenIdentity[] = [];
  const lineOf = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file} line ${index + 1}`;
    const entry = parseLine(line, where);
    const earlier = lineOf.get(entry.token);
    if (earlier !== undefined) throw new UsageError(`${where}: the same token as line ${earlier}: a token must name one identity`);
    lineOf.set(entry.token, index + 1);
    entries.push(entry);
  });
  return entries;
}

/** The token of an `Authorization: Bearer TOKEN` header, if it has that form. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}
