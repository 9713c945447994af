// Where GetSlivers() answers come from: a JSON file (--plc-file) or PLC itself over XML-RPC (--plc).
// Both return the raw answer; resources/plc-records.ts checks and converts it.
//
// Over XML-RPC the node authenticates as today's node manager does (docs/plc.md): a session key
// from the session file, checked once with AuthCheck; without one (or when PLC refuses it) a new
// one from GetSession signed with BootAuth; GetSlivers under the session. HTTPS trusts only the
// CA file given (PLC's own certificate, as the original pinned it); plain http only when asked.
import { Agent as HttpAgent, get as httpGet, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InvalidError, UnauthorizedError, UnavailableError, UsageError } from '../../resources/errors.js';
import { xmlrpc } from '../../resources/lazy-modules.js';
import { bootAuth, SessionFile, type NodeCredentials } from './node-auth.js';

export interface GetSliversSource {
  /** For logs and status: the file or URL. */
  readonly description: string;
  /** Whether the source authenticates this node (status reports whether it is). */
  readonly authenticates?: boolean;
  /**
   * The raw answer. Unreachable → UnavailableError; refused credentials → UnauthorizedError;
   * unreadable content → InvalidError.
   */
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

export const DEFAULT_PLC_TIMEOUT_MS = 30_000;
/** PLC's fault code for a call it could not authenticate. */
export const PLC_AUTHENTICATION_FAULT = 103;

export interface PlcEndpoint {
  /** PLC's API endpoint, https:// (or http:// with allowHttp). */
  url: string;
  /** PEM file of the CA (or PLC's certificate) that https must chain to; default: the system CAs. */
  cacert?: string;
  /** Accept an http:// URL (no TLS): for a test PLC on a trusted link only. */
  allowHttp?: boolean;
  timeoutMs?: number;
}

function parsePlcUrl(url: string, allowHttp: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new UsageError(`--plc: "${url}" is not a URL (expected https://HOST[:PORT]/PATH)`, { cause: error });
  }
  if (parsed.protocol === 'http:' && !allowHttp) throw new UsageError(`--plc: "${url}" is plain http; PLC is reached over https (add --plc-allow-http to accept http)`);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--plc: "${url}" must use https`);
  return parsed;
}

/** Whether an error carries an answer of PLC's (a fault): PLC was reached even though the call failed. */
export function isPlcFault(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { faultCode?: unknown } | undefined) : undefined;
  return typeof cause?.faultCode === 'number';
}

/** One XML-RPC endpoint: calls with a timeout, faults and transport errors mapped to our errors. */
export class PlcClient {
  readonly url: URL;
  private readonly ca: Buffer | undefined;
  private readonly timeoutMs: number;

  constructor(endpoint: PlcEndpoint) {
    this.url = parsePlcUrl(endpoint.url, endpoint.allowHttp ?? false);
    this.timeoutMs = endpoint.timeoutMs ?? DEFAULT_PLC_TIMEOUT_MS;
    if (endpoint.cacert !== undefined) {
      if (this.url.protocol !== 'https:') throw new UsageError(`--plc-cacert applies to https only, and ${this.url.origin} is http`);
      try {
        this.ca = readFileSync(endpoint.cacert);
      } catch (error) {
        throw new UsageError(`cannot read --plc-cacert ${endpoint.cacert}: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  get description(): string {
    return `PLC ${this.url.origin}${this.url.pathname}`;
  }

  /** `method(...params)`. A fault 103 → UnauthorizedError, other faults and transport errors → UnavailableError. */
  call(method: string, params: unknown[]): Promise<unknown> {
    const secure = this.url.protocol === 'https:';
    // One agent per call, so a timed-out call can be cut off by destroying its socket.
    const agent = secure ? new HttpsAgent({ keepAlive: false, ...(this.ca ? { ca: this.ca } : {}) }) : new HttpAgent({ keepAlive: false });
    const options = { host: this.url.hostname, port: Number(this.url.port || (secure ? 443 : 80)), path: `${this.url.pathname}${this.url.search}`, agent };
    // The package loads here, at the first call: a node that reads a file or runs without PLC never loads it.
    const client = secure ? xmlrpc().createSecureClient(options) : xmlrpc().createClient(options);
    const origin = this.url.origin;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        agent.destroy();
        reject(new UnavailableError(`PLC ${origin} did not answer ${method} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      client.methodCall(method, params, (error: unknown, value: unknown) => {
        clearTimeout(timer);
        agent.destroy();
        if (!error) return resolve(value);
        const fault = error as { faultCode?: unknown; faultString?: unknown; code?: unknown; message?: string };
        const detail = `PLC answered ${method} with fault ${String(fault.faultCode)}: ${String(fault.faultString)}`;
        if (fault.faultCode === PLC_AUTHENTICATION_FAULT) return reject(new UnauthorizedError(detail, { cause: error }));
        if (fault.faultCode !== undefined) return reject(new UnavailableError(detail, { cause: error }));
        if (typeof fault.code === 'string') return reject(new UnavailableError(`cannot reach PLC at ${origin}: ${fault.message ?? fault.code}`, { cause: error }));
        reject(new InvalidError(`PLC's ${method} answer is not valid XML-RPC: ${fault.message ?? String(error)}`));
      });
    });
  }
  /**
   * A file PLC's boot server serves (a conf file's `source`), relative to PLC's origin, over the
   * same TLS trust and timeout as the calls. Any answer but 200 is an UnavailableError.
   */
  fetchFile(source: string): Promise<Buffer> {
    const url = new URL(source.replace(/^\/+/, ''), `${this.url.origin}/`);
    const secure = url.protocol === 'https:';
    const agent = secure ? new HttpsAgent({ keepAlive: false, ...(this.ca ? { ca: this.ca } : {}) }) : new HttpAgent({ keepAlive: false });
    return new Promise((resolve, reject) => {
      const fail = (message: string, cause?: unknown) => {
        agent.destroy();
        reject(new UnavailableError(message, cause === undefined ? undefined : { cause }));
      };
      const timer = setTimeout(() => fail(`PLC ${url.origin} did not serve ${url.pathname} within ${this.timeoutMs} ms`), this.timeoutMs);
      const onResponse = (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => (clearTimeout(timer), fail(`reading ${url.href} failed: ${error.message}`, error)));
        response.on('end', () => {
          clearTimeout(timer);
          agent.destroy();
          if (response.statusCode === 200) resolve(Buffer.concat(chunks));
          else reject(new UnavailableError(`PLC answered ${url.href} with HTTP ${response.statusCode}`));
        });
      };
      const request = secure ? httpsGet(url, { agent }, onResponse) : httpGet(url, { agent }, onResponse);
      request.on('error', (error) => (clearTimeout(timer), fail(`cannot fetch ${url.href}: ${error.message}`, error)));
    });
  }
}

/** PLC with a fixed auth struct as GetSlivers' first argument (config `plcAuth`). */
export function structAuthSource(client: PlcClient, auth: Record<string, unknown>): GetSliversSource {
  return { description: client.description, fetch: () => client.call('GetSlivers', [auth]) };
}

/**
 * PLC with node authentication: BootAuth for GetSession, then the session for everything else.
 * A session read from the file is checked with AuthCheck once per process; a session PLC refuses
 * is dropped and replaced (one retry); refused BootAuth is an UnauthorizedError (wrong key or id).
 */
export class NodeAuthSource implements GetSliversSource {
  readonly authenticates = true;
  private session: string | undefined;
  private checked = false;

  constructor(
    private readonly client: PlcClient,
    private readonly credentials: NodeCredentials,
    private readonly sessionFile: SessionFile,
  ) {}

  get description(): string {
    return `${this.client.description} as node ${this.credentials.nodeId}`;
  }

  async fetch(): Promise<unknown> {
    const session = await this.validSession();
    try {
      return await this.client.call('GetSlivers', [{ AuthMethod: 'session', session }]);
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      this.forget();
      return this.client.call('GetSlivers', [{ AuthMethod: 'session', session: await this.validSession() }]);
    }
  }

  private async validSession(): Promise<string> {
    this.session ??= this.sessionFile.read();
    if (this.session !== undefined && !this.checked) {
      try {
        await this.client.call('AuthCheck', [{ AuthMethod: 'session', session: this.session }]);
        this.checked = true;
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        this.forget();
      }
    }
    if (this.session === undefined) {
      const session = await this.newSession();
      this.sessionFile.write(session);
      this.session = session;
      this.checked = true;
    }
    return this.session;
  }

  private async newSession(): Promise<string> {
    let session: unknown;
    try {
      session = await this.client.call('GetSession', [bootAuth(this.credentials, [])]);
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      throw new UnauthorizedError(`PLC refused node ${this.credentials.nodeId}'s BootAuth (wrong node id or key?): ${error.message}`, { cause: error });
    }
    if (typeof session !== 'string' || session.length === 0) throw new InvalidError(`PLC's GetSession answer is not a session key: ${JSON.stringify(session)?.slice(0, 80)}`);
    return session;
  }

  private forget(): void {
    this.session = undefined;
    this.checked = false;
    this.sessionFile.remove();
  }
}
