// How a node proves who it is to PLC (docs/plc.md): BootAuth signs each call with the node key,
// GetSession under BootAuth gives a session key used afterwards, kept in the data dir (0600).
// The key itself never leaves this module: not in messages, logs or status.
import { createHmac } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { StorageError, UsageError } from '../../resources/errors.js';

/** Where a PlanetLab node's boot CD/image leaves its identity. */
export const DEFAULT_BOOT_FILE = '/usr/boot/plnode.txt';

export interface NodeCredentials {
  nodeId: number;
  /** The node key; never logged. */
  key: string;
}

export interface NodeCredentialSources {
  /** --node-id; overrides the boot file's NODE_ID. */
  nodeId?: number;
  /** --node-key-file: a file holding the key; overrides the boot file's NODE_KEY. */
  keyFile?: string;
  /** The boot file (default /usr/boot/plnode.txt), read only for what the others leave out. */
  bootFile: string;
}

/** `NAME="value"` lines of a boot file (shell syntax, as the boot manager writes it). */
export function parseBootFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    values.set(match[1] as string, (match[2] as string).trim().replace(/^(["'])(.*)\1$/, '$2'));
  }
  return values;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** The node's id and key from the flags and the boot file; UsageError naming what is missing. */
export function readNodeCredentials(sources: NodeCredentialSources): NodeCredentials {
  let boot: Map<string, string> | undefined;
  const fromBoot = (name: string): string | undefined => {
    boot ??= parseBootFile(readText(sources.bootFile, 'the boot file'));
    return boot.get(name);
  };
  const nodeId = sources.nodeId ?? Number(fromBoot('NODE_ID') ?? Number.NaN);
  if (!Number.isSafeInteger(nodeId) || nodeId <= 0) {
    throw new UsageError(`no node id: give --node-id or a NODE_ID line in ${sources.bootFile}`);
  }
  const key = sources.keyFile !== undefined ? readText(sources.keyFile, 'the node key file').trim() : fromBoot('NODE_KEY');
  if (!key) throw new UsageError(`no node key: give --node-key-file or a NODE_KEY line in ${sources.bootFile}`);
  return { nodeId, key };
}

/** Python's str() of an XML-RPC parameter value, as PLC's canonicalization applies it. */
function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return String(value);
}

/**
 * BootAuth's canonical form of call parameters (PLCAPI's Auth.py): lists flattened and dict values
 * (never keys) taken, recursively, each value as Python's str().
 */
export function canonicalize(params: readonly unknown[]): string[] {
  const values: string[] = [];
  for (const param of params) {
    if (Array.isArray(param)) values.push(...canonicalize(param));
    else if (typeof param === 'object' && param !== null && !(param instanceof Date)) values.push(...canonicalize(Object.values(param)));
    else values.push(pythonStr(param));
  }
  return values;
}

/** Python sorts strings by code point; JavaScript's default sort compares UTF-16 units. */
function byCodePoint(a: string, b: string): number {
  const left = Array.from(a, (c) => c.codePointAt(0) as number);
  const right = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(left.length, right.length); i++) if (left[i] !== right[i]) return (left[i] as number) - (right[i] as number);
  return left.length - right.length;
}

/** The string BootAuth signs: `[` + the sorted canonical values joined + `]`. */
export function bootAuthMessage(params: readonly unknown[]): string {
  return `[${canonicalize(params).sort(byCodePoint).join('')}]`;
}

export interface BootAuthStruct {
  AuthMethod: 'hmac';
  node_id: number;
  value: string;
}

/** The auth struct for one call with `params` (the parameters after the auth struct). */
export function bootAuth(credentials: NodeCredentials, params: readonly unknown[]): BootAuthStruct {
  const value = createHmac('sha1', Buffer.from(credentials.key, 'utf8')).update(bootAuthMessage(params), 'utf8').digest('hex');
  return { AuthMethod: 'hmac', node_id: credentials.nodeId, value };
}

/** The session key file: one line, mode 0600, replaced atomically. */
export class SessionFile {
  constructor(readonly path: string) {}

  read(): string | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StorageError(`cannot read the PLC session file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    return text.trim() || undefined;
  }

  write(session: string): void {
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      fchmodSync(fd, 0o600); // a leftover temp file keeps its mode on open
      writeSync(fd, `${session}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
