// What every slvctl command works with: the API client for the chosen socket and the output streams.
import { existsSync } from 'node:fs';
import { checkoutPath } from '../resources/checkout.js';
import { UnavailableError } from '../resources/errors.js';
import { ApiClient } from '../adapters/api/client/client.js';
import { colourFor, type Palette } from './output.js';

/** The packaged slvd's socket (packaging/slvd.service, examples/etc-slv-slvd.yaml). */
export const INSTALLED_API_SOCKET = '/run/slv/api.sock';
/** slvd's socket is `<data-dir>/api.sock` unless configured: a daemon run with --data-dir /var/lib/slv. */
export const VAR_LIB_API_SOCKET = '/var/lib/slv/api.sock';
/** `npm start` runs slvd in this checkout with ./data: found from any directory. */
export const CHECKOUT_API_SOCKET = checkoutPath('data/api.sock');
export const DEVELOPMENT_API_SOCKET = './data/api.sock';

/** Where slvctl looks for slvd, in order, when neither --server nor $SLV_SERVER says. */
export const DEFAULT_API_SOCKETS = [INSTALLED_API_SOCKET, VAR_LIB_API_SOCKET, DEVELOPMENT_API_SOCKET, CHECKOUT_API_SOCKET];

/** `--server`, else $SLV_SERVER, else the first default socket that exists. */
export function serverSocket(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): string {
  const chosen = flag || env.SLV_SERVER || DEFAULT_API_SOCKETS.find(exists);
  if (chosen) return chosen;
  throw new UnavailableError(`cannot find slvd: no API socket at ${DEFAULT_API_SOCKETS.join(', ')} (is slvd running? choose its socket with --server or SLV_SERVER)`);
}

export interface Context {
  client: ApiClient;
  out: NodeJS.WriteStream;
  colour: Palette;
}

/** `namespace`: -n NODE, for the fleet API. */
export function createContext(server: string | undefined, namespace?: string): Context {
  return { client: new ApiClient(serverSocket(server), namespace === undefined ? {} : { namespace }), out: process.stdout, colour: colourFor(process.stdout) };
}
