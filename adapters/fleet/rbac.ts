// etcd's own RBAC for a fleet (docs/fleet.md "Roles"): the fleet API uses an admin role over the
// whole root; each node gets a user and a role that reach only its namespace and its heartbeat
// key, so a node's credentials cannot read another node's objects or write its status.
import { Range, type Etcd3 } from 'etcd3';
import { heartbeatKey, namespacePrefix } from './layout.js';

export const nodeUser = (node: string): string => `slv-node-${node}`;
export const FLEET_ADMIN_ROLE = 'slv-fleet-admin';

/** Does etcd refuse this call for lack of permission (or credentials)? */
export function isPermissionDenied(error: unknown): boolean {
  return /permission denied|user name is empty|invalid auth token/i.test((error as Error).message ?? '');
}

async function ensureRole(client: Etcd3, name: string, grants: Array<{ range: Range }>): Promise<void> {
  const role = client.role(name);
  if (!(await client.getRoles()).some((r) => r.name === name)) await role.create();
  for (const { range } of grants) await role.grant({ permission: 'Readwrite', range });
}

async function ensureUser(client: Etcd3, name: string, password: string, role: string): Promise<void> {
  const user = client.user(name);
  if ((await client.getUsers()).some((u) => u.name === name)) await user.setPassword(password);
  else await user.create(password);
  await user.addRole(role);
}

/** Turn etcd authentication on, with `root` (password given) as the only way back in. */
export async function enableAuth(client: Etcd3, rootPassword: string): Promise<void> {
  await ensureUser(client, 'root', rootPassword, 'root').catch(async (error: unknown) => {
    // The root role exists from the start in etcd 3.4; older clusters need it created.
    if (!/role name not found/i.test((error as Error).message)) throw error;
    await client.role('root').create();
    await ensureUser(client, 'root', rootPassword, 'root');
  });
  await client.auth.authEnable();
}

/** A fleet API user: read and write under the whole root. */
export async function addFleetAdmin(client: Etcd3, root: string, user: string, password: string): Promise<void> {
  await ensureRole(client, FLEET_ADMIN_ROLE, [{ range: Range.prefix(root) }]);
  await ensureUser(client, user, password, FLEET_ADMIN_ROLE);
}

/**
 * Node `node`'s user (`slv-node-<node>`) and role: its namespace and its heartbeat key, nothing
 * else. etcd grants by key range, and an object's spec and status share one key, so the role can
 * also write its own specs: what it cannot do is touch another node's keys.
 */
export async function addFleetNode(client: Etcd3, root: string, node: string, password: string): Promise<void> {
  const name = nodeUser(node);
  await ensureRole(client, name, [{ range: Range.prefix(namespacePrefix(root, node)) }, { range: new Range(heartbeatKey(root, node)) }]);
  await ensureUser(client, name, password, name);
}
