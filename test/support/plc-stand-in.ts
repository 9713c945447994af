// A faithful stand-in for PLC (PLCAPI 5), which cannot run here: real XML-RPC over HTTPS with a
// certificate made at test time by openssl, serving the three calls a node makes (AuthCheck,
// GetSession, GetSlivers) and checking auth the way PLCAPI's Auth.py and Method.py do: the auth
// struct's shape, BootAuth's HMAC-SHA1 over the canonicalized parameters with the node's key,
// sessions bound to a node (deleted when they fail), the methods' roles and argument counts.
// It also serves static files over GET, as PLC's boot server serves conf file sources.
// Everything else is refused with PLCAPI's fault codes and strings. The HMAC is computed here
// independently of adapters/plc, so a mistake there cannot agree with itself.
import type { TestContext } from 'node:test';
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decodeMethodCall, encodeFault, encodeResponse, XmlRpcFault } from '../../adapters/api/xmlrpc/codec.js';
import { tempDir } from './runtime-helpers.js';

export const FAULT_INVALID_METHOD = 100;
export const FAULT_ARGUMENT_COUNT = 101;
export const FAULT_INVALID_ARGUMENT = 102;
export const FAULT_AUTHENTICATION = 103;
export const FAULT_PERMISSION_DENIED = 108;

export interface Certificate {
  /** PEM files. */
  certFile: string;
  keyFile: string;
}

/** A self-signed certificate for 127.0.0.1 (it is its own CA), made with openssl in a temp dir. */
export function makeCertificate(t: TestContext, commonName = 'PLC stand-in'): Certificate {
  const dir = tempDir(t, 'slv-plc-cert-');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}

interface MethodRules {
  roles: string[];
  minArgs: number;
  maxArgs: number;
}

// From PLCAPI's PLC/Methods: who may call, and how many arguments (the auth struct included).
const METHODS: Record<string, MethodRules> = {
  AuthCheck: { roles: ['admin', 'pi', 'user', 'tech', 'node'], minArgs: 1, maxArgs: 1 },
  GetSession: { roles: ['admin', 'pi', 'user', 'tech', 'node'], minArgs: 1, maxArgs: 2 },
  GetSlivers: { roles: ['admin', 'node'], minArgs: 1, maxArgs: 2 },
};
const AUTH_METHODS = ['session', 'password', 'capability', 'gpg', 'hmac', 'hmac_dummybox', 'anonymous'];

export interface PlcCall {
  method: string;
  authMethod: unknown;
  /** The fault code, when refused. */
  fault?: number;
}

export interface PlcStandIn {
  url: string;
  /** The certificate clients must trust (pass as --plc-cacert). */
  caFile: string;
  /** Node keys by node_id: change to simulate a re-keyed node. */
  nodes: Map<number, string>;
  /** The GetSlivers answer for a node (today's struct form, or anything a test wants). */
  answer: (nodeId: number) => unknown;
  /** Every call, in order. */
  calls: PlcCall[];
  /** Live session keys and their node. */
  sessions: Map<string, number>;
  /** What the boot server serves on GET (conf file sources), by path without the leading slash; change to simulate an edited file. */
  files: Map<string, string>;
  /** Paths fetched with GET, in order. */
  fetched: string[];
}

/** Python's str() of a parameter, as BootAuth canonicalizes it. */
function pyStr(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

function flatten(values: unknown[]): string[] {
  return values.flatMap((value) => {
    if (Array.isArray(value)) return flatten(value);
    if (typeof value === 'object' && value !== null) return flatten(Object.values(value));
    return [pyStr(value)];
  });
}

class Refused extends XmlRpcFault {}

function invalidArgument(extra: string, name?: string): Refused {
  return new Refused(FAULT_INVALID_ARGUMENT, `${name === undefined ? 'Invalid argument' : `Invalid ${name} value`}: ${extra}`);
}

function authFailure(extra: string): Refused {
  return new Refused(FAULT_AUTHENTICATION, `Failed to authenticate call: ${extra}`);
}

function xmlrpcType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'nil';
  if (typeof value === 'object') return 'struct';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  return typeof value === 'boolean' ? 'boolean' : 'string';
}

export async function startPlcStandIn(t: TestContext, options: { nodes: Record<number, string>; answer: (nodeId: number) => unknown }): Promise<PlcStandIn> {
  const certificate = makeCertificate(t);
  const state: Omit<PlcStandIn, 'url'> = {
    caFile: certificate.certFile,
    nodes: new Map(Object.entries(options.nodes).map(([id, key]) => [Number(id), key])),
    answer: options.answer,
    calls: [],
    sessions: new Map(),
    files: new Map(),
    fetched: [],
  };

  /** Auth.check and its AuthMethod subclasses; returns the calling node's id. */
  const authenticate = (method: string, auth: unknown, args: unknown[]): number => {
    if (typeof auth !== 'object' || auth === null || Array.isArray(auth)) throw invalidArgument(`expected struct, got ${xmlrpcType(auth)}`, 'auth');
    const fields = auth as Record<string, unknown>;
    if (!('AuthMethod' in fields)) throw invalidArgument("'AuthMethod' not specified", 'auth');
    if (typeof fields.AuthMethod !== 'string' || !AUTH_METHODS.includes(fields.AuthMethod)) throw invalidArgument(`must be '${AUTH_METHODS.join("', '")}'`, 'AuthMethod');
    switch (fields.AuthMethod) {
      case 'hmac':
      case 'hmac_dummybox': {
        for (const key of ['node_id', 'value']) if (!(key in fields)) throw invalidArgument(`'${key}' not specified`, 'auth');
        if (xmlrpcType(fields.node_id) !== 'int') throw invalidArgument(`expected int, got ${xmlrpcType(fields.node_id)}`, "auth['node_id']");
        if (typeof fields.value !== 'string') throw invalidArgument(`expected string, got ${xmlrpcType(fields.value)}`, "auth['value']");
        if (!METHODS[method]?.roles.includes('node')) throw authFailure("BootAuth: Not allowed to call method, missing 'node' role");
        const key = state.nodes.get(fields.node_id as number);
        if (key === undefined) throw authFailure('BootAuth: No such node');
        const message = `[${flatten(args)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
          .join('')}]`;
        const digest = createHmac('sha1', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');
        if (digest !== fields.value) throw authFailure('BootAuth: Call could not be authenticated');
        return fields.node_id as number;
      }
      case 'session': {
        if (!('session' in fields)) throw invalidArgument("'session' not specified", 'auth');
        if (typeof fields.session !== 'string') throw invalidArgument(`expected string, got ${xmlrpcType(fields.session)}`, "auth['session']");
        const nodeId = state.sessions.get(fields.session);
        if (nodeId === undefined) throw authFailure('SessionAuth: No such session');
        if (!state.nodes.has(nodeId)) {
          state.sessions.delete(fields.session);
          throw authFailure('SessionAuth: No such node');
        }
        if (!METHODS[method]?.roles.includes('node')) throw new Refused(FAULT_PERMISSION_DENIED, `Permission denied: SessionAuth: Not allowed to call method ${method}, missing 'node' role`);
        return nodeId;
      }
      case 'anonymous':
        throw authFailure('AnonymousAuth: method cannot be called anonymously');
      default:
        // Persons (password, capability, gpg) do not exist on this stand-in.
        throw authFailure(`${String(fields.AuthMethod)}: No such account`);
    }
  };

  const call = (method: string, params: unknown[]): unknown => {
    const rules = METHODS[method];
    if (!rules) throw new Refused(FAULT_INVALID_METHOD, `Invalid method ${method}`);
    let caller = '';
    try {
      if (params.length < rules.minArgs || params.length > rules.maxArgs) {
        throw new Refused(FAULT_ARGUMENT_COUNT, `Expected ${rules.minArgs === rules.maxArgs ? rules.minArgs : `${rules.minArgs}-${rules.maxArgs}`} arguments, got ${params.length}`);
      }
      const [auth, ...args] = params;
      const nodeId = authenticate(method, auth, args);
      caller = `node_id ${nodeId}`;
      switch (method) {
        case 'AuthCheck':
          return 1;
        case 'GetSession': {
          const existing = (auth as { session?: string }).session;
          if (existing !== undefined) return existing;
          const session = randomBytes(24).toString('base64url');
          state.sessions.set(session, nodeId);
          return session;
        }
        default:
          if (args[0] !== undefined && args[0] !== nodeId) throw new Refused(FAULT_PERMISSION_DENIED, 'Permission denied: a node may only get its own slivers');
          return state.answer(nodeId);
      }
    } catch (error) {
      // A failed session authentication deletes the session, as PLC's SessionAuth does.
      if (error instanceof Refused && error.faultCode === FAULT_AUTHENTICATION) {
        const session = (params[0] as { session?: unknown } | undefined)?.session;
        if (typeof session === 'string') state.sessions.delete(session);
      }
      // Method.__call__ prefixes the caller and method name to every fault.
      if (error instanceof Refused) throw new Refused(error.faultCode, `${caller}: ${method}: ${error.faultString}`);
      throw error;
    }
  };

  const server: Server = createServer({ cert: readFileSync(certificate.certFile), key: readFileSync(certificate.keyFile) }, (request, response) => {
    if (request.method === 'GET') {
      // PLC's boot server: static files (conf file sources), 404 for anything else.
      const path = new URL(request.url ?? '/', 'https://stand-in').pathname.replace(/^\/+/, '');
      state.fetched.push(path);
      const file = state.files.get(path);
      response.writeHead(file === undefined ? 404 : 200, { 'Content-Type': 'application/octet-stream' });
      response.end(file ?? '');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let method = '';
      let authMethod: unknown;
      let body: string;
      try {
        const decoded = decodeMethodCall(Buffer.concat(chunks));
        method = decoded.method;
        authMethod = (decoded.params[0] as { AuthMethod?: unknown } | undefined)?.AuthMethod;
        body = encodeResponse(call(method, decoded.params));
        state.calls.push({ method, authMethod });
      } catch (error) {
        const fault = error instanceof XmlRpcFault ? error : new XmlRpcFault(FAULT_INVALID_ARGUMENT, `Invalid argument: ${(error as Error).message}`);
        state.calls.push({ method, authMethod, fault: fault.faultCode });
        body = encodeFault(fault);
      }
      response.writeHead(200, { 'Content-Type': 'text/xml' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, { url: `https://127.0.0.1:${port}/PLCAPI/` });
}
