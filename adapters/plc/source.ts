// Where GetSlivers() answers come from: a JSON file (--plc-file) or PLC itself over XML-RPC (--plc).
// Both return the raw answer; resources/plc-records.ts checks and converts it.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { readFile } from 'node:fs/promises';
import xmlrpc from 'xmlrpc';
import { InvalidError, UnavailableError, UsageError } from '../../resources/errors.js';

export interface GetSliversSource {
  /** For logs and status: the file or URL. */
  readonly description: string;
  /** The raw answer. Unreachable → UnavailableError; unreadable content → InvalidError. */
  fetch(): Promise<unknown>;
}

/** A GetSlivers answer saved as JSON (the shape of PLC's answer: a list of node structs, or one). */
export function fileSource(path: string): GetSliversSource {
  return {
    description: `file ${path}`,
    async fetch() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new UnavailableError(`cannot read GetSlivers file ${path}: ${(error as Error).message}`, { cause: error });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new InvalidError(`GetSlivers file ${path} is not valid JSON: ${(error as Error).message}`, [], { cause: error });
      }
    },
  };
}

export interface XmlRpcSourceOptions {
  /** PLC's API endpoint, http:// or https://. */
  url: string;
  /** The auth struct passed as GetSlivers' first argument. */
  auth: Record<string, unknown>;
  timeoutMs?: number;
}

export const DEFAULT_PLC_TIMEOUT_MS = 30_000;

function parsePlcUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new UsageError(`--plc: "${url}" is not a URL (expected http://HOST[:PORT]/PATH or https://…)`, { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--plc: "${url}" must use http or https`);
  return parsed;
}

/** PLC over XML-RPC: `GetSlivers(auth)`. */
export function xmlRpcSource(options: XmlRpcSourceOptions): GetSliversSource {
  const url = parsePlcUrl(options.url);
  const secure = url.protocol === 'https:';
  const timeoutMs = options.timeoutMs ?? DEFAULT_PLC_TIMEOUT_MS;
  return {
    description: `PLC ${url.origin}${url.pathname}`,
    fetch() {
      // One agent per call, so a timed-out call can be cut off by destroying its socket.
      const agent = secure ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
      const clientOptions = { host: url.hostname, port: Number(url.port || (secure ? 443 : 80)), path: `${url.pathname}${url.search}`, agent };
      const client = secure ? xmlrpc.createSecureClient(clientOptions) : xmlrpc.createClient(clientOptions);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          agent.destroy();
          reject(new UnavailableError(`PLC ${url.origin} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        client.methodCall('GetSlivers', [options.auth], (error: unknown, value: unknown) => {
          clearTimeout(timer);
          agent.destroy();
          if (!error) return resolve(value);
          const fault = error as { faultCode?: unknown; faultString?: unknown; code?: unknown; message?: string };
          if (fault.faultCode !== undefined) return reject(new UnavailableError(`PLC answered GetSlivers with fault ${String(fault.faultCode)}: ${String(fault.faultString)}`));
          if (typeof fault.code === 'string') return reject(new UnavailableError(`cannot reach PLC at ${url.origin}: ${fault.message ?? fault.code}`));
          reject(new InvalidError(`PLC's GetSlivers answer is not valid XML-RPC: ${fault.message ?? String(error)}`));
        });
      });
    },
  };
}
