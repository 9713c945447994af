// What every slvctl command works with: the API client for the chosen socket and the output streams.
import { existsSync } from 'node:fs';
import { ApiClient } from '../adapters/api/client/client.js';
import { colourFor, type Palette } from './output.js';

/** slvd's API socket is `<data-dir>/api.sock`: /var/lib/slv for an installed daemon, ./data for `npm start`. */
export const INSTALLED_API_SOCKET = '/var/lib/slv/api.sock';
export const DEVELOPMENT_API_SOCKET = './data/api.sock';

/** `--server`, else $SLV_SERVER, else the installed daemon's socket if it exists, else the `npm start` one. */
export function serverSocket(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.SLV_SERVER || (existsSync(INSTALLED_API_SOCKET) ? INSTALLED_API_SOCKET : DEVELOPMENT_API_SOCKET);
}

export interface Context {
  client: ApiClient;
  out: NodeJS.WriteStream;
  colour: Palette;
}

export function createContext(server: string | undefined): Context {
  return { client: new ApiClient(serverSocket(server)), out: process.stdout, colour: colourFor(process.stdout) };
}
