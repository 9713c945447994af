// `slvctl config kubeconfig`: a kubeconfig for the real kubectl against slvd's TCP listener
// (`slvd --api-port`), docs/kubectl.md. No credentials: slvd knows a local caller by its uid.
import { stringify as toYaml } from 'yaml';
import { UsageError } from '../resources/errors.js';

export interface KubeconfigOptions {
  /** slvd's --api-port. */
  port: number;
  host: string;
  /** The name of the cluster, user and context. */
  name: string;
  /** The context's namespace: the fleet API's node kubectl works on without -n. */
  namespace?: string;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`--port ${value} is not a TCP port (1-65535): give slvd's --api-port`);
  return port;
}

export function kubeconfig({ port, host, name, namespace }: KubeconfigOptions): string {
  const server = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server } }],
    users: [{ name, user: {} }],
    contexts: [{ name, context: { cluster: name, user: name, ...(namespace === undefined ? {} : { namespace }) } }],
    'current-context': name,
    preferences: {},
  });
}
