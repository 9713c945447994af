// `slvctl config kubeconfig` and `slvctl config view` (docs/kubectl.md): kubeconfigs for the real
// kubectl against slvd, on the loopback TCP listener (`slvd --api-port`, no credentials: slvd asks
// the kernel for a local caller's uid) or on the HTTPS listener (`apiHttps`, a bearer token), and
// the context slvctl itself uses.
import { readFileSync } from 'node:fs';
import { yaml } from '../resources/lazy-modules.js';
import { UsageError } from '../resources/errors.js';

export interface KubeconfigOptions {
  /** slvd's --api-port, or apiHttps.port with `https`. */
  port: number;
  host: string;
  /** The name of the cluster, user and context. */
  name: string;
  https?: boolean;
  /** PEM file of the CA the HTTPS listener's certificate chains to (absent: the system's CAs). */
  certificateAuthority?: string;
  /** A file whose first line is the bearer token (slvd's token file has `token,user,uid` lines: give the token alone). */
  tokenFile?: string;
  /** The context's namespace: the fleet API's node kubectl works on without -n. */
  namespace?: string;
}

/** What `kubectl config view` shows in place of secrets and embedded data unless --raw. */
const REDACTED = 'REDACTED';
const OMITTED = 'DATA+OMITTED';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`--port ${value} is not a TCP port (1-65535): give slvd's --api-port or apiHttps.port`);
  return port;
}

function readOption(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${option} ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function tokenIn(file: string): string {
  const token = readOption('--token-file', file).split('\n')[0]!.trim();
  if (token === '' || /[\s,]/.test(token)) throw new UsageError(`--token-file ${file}: the first line must be the token alone`);
  return token;
}

interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: { name: string; user: { token?: string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
  preferences: Record<string, never>;
}

function document(name: string, cluster: Kubeconfig['clusters'][number]['cluster'], user: Kubeconfig['users'][number]['user'], namespace?: string): Kubeconfig {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: name, user: name, ...(namespace === undefined ? {} : { namespace }) } }],
    'current-context': name,
    preferences: {},
  };
}

function kubeconfigDocument({ port, host, name, https, certificateAuthority, tokenFile, namespace }: KubeconfigOptions): Kubeconfig {
  if (!https) {
    const httpsOnly = [certificateAuthority !== undefined && '--certificate-authority', tokenFile !== undefined && '--token-file'].filter(Boolean);
    if (httpsOnly.length > 0)
      throw new UsageError(`${httpsOnly.join(' and ')} ${httpsOnly.length > 1 ? 'need' : 'needs'} --https: the loopback listener knows callers by uid and would send a token in clear`);
  } else if (tokenFile === undefined) {
    throw new UsageError('--https needs --token-file: the HTTPS listener knows callers by bearer token only');
  }
  const server = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const ca = certificateAuthority === undefined ? {} : { 'certificate-authority-data': Buffer.from(readOption('--certificate-authority', certificateAuthority)).toString('base64') };
  return document(name, { server, ...ca }, tokenFile === undefined ? {} : { token: tokenIn(tokenFile) }, namespace);
}

/** Secrets and embedded data replaced as `kubectl config view` does without --raw. */
function redacted(config: Kubeconfig): Kubeconfig {
  return {
    ...config,
    clusters: config.clusters.map(({ name, cluster }) => ({ name, cluster: cluster['certificate-authority-data'] === undefined ? cluster : { ...cluster, 'certificate-authority-data': OMITTED } })),
    users: config.users.map(({ name, user }) => ({ name, user: user.token === undefined ? user : { ...user, token: REDACTED } })),
  };
}

/** The kubeconfig kubectl needs for slvd's loopback or HTTPS listener. */
export function kubeconfig(options: KubeconfigOptions): string {
  return yaml().stringify(kubeconfigDocument(options));
}

/**
 * `slvctl config view`: with a listener's options, the kubeconfig for it (secrets redacted unless
 * `raw`); without, the context slvctl itself uses: its socket, the caller named by the kernel.
 */
export function viewConfig(options: Partial<KubeconfigOptions> & { name: string; socket: () => string; raw: boolean }): string {
  if (options.port === undefined) {
    for (const flag of ['https', 'certificateAuthority', 'tokenFile'] as const) {
      if (options[flag] !== undefined) throw new UsageError('the HTTPS options describe a kubeconfig for a listener: give --port too');
    }
    return yaml().stringify(document(options.name, { server: `unix://${options.socket()}` }, {}));
  }
  const config = kubeconfigDocument({ ...options, port: options.port, host: options.host ?? '127.0.0.1' });
  return yaml().stringify(options.raw ? config : redacted(config));
}
