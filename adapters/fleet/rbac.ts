// etcd's own RBAC for a fleet (docs/fleet.md "Roles"): the fleet API uses an admin role over the
// whole root; each node gets a user and a role that may read only its own namespace and write only
// its statuses and its heartbeat key: it cannot touch another node's keys nor write its own specs.
import { Range, type Etcd3 } from 'etcd3';
import { heartbeatKey, namespacePartPrefix, namespacePrefix } from './layout.js';

export const nodeUser = (node: string): string => `slv-node-${node}`;
export const FLEET_ADMIN_ROLE = 'slv-fleet-admin';

/** Does etcd refuse this call for lack of permission (or credentials)? */
export function isPermissionDenied(error: unknown): boolean {
  return /permission denied|user name is empty|invalid auth token/i.test((error as Error).message ?? '');
}

type Permission = 'Read' | 'Write' | 'Readwrite';

/** The role with these grants. etcd replaces the permission of a range granted before, so a role of the older layout (read-write on the whole namespace) is narrowed. */
async function ensureRole(client: Etcd3, name: string, grants: Array<{ permission: Permission; range: Range }>): Promise<void> {
  const role = client.role(name);
  if (!(await client.getRoles()).some((r) => r.name === name)) await role.create();
  for (const grant of grants) await role.grant(grant);
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
  await ensureRole(client, FLEET_ADMIN_ROLE, [{ permission: 'Readwrite', range: Range.prefix(root) }]);
  await ensureUser(client, user, password, FLEET_ADMIN_ROLE);
}

/**
 * Node `node`'s user (`slv-node-<node>`) and role: read its namespace (specs and statuses: the
 * node's store watches both), write its statuses and its heartbeat key; nothing else.
 */
export async function addFleetNode(client: Etcd3, root: string, node: string, password: string): Promise<void> {
  const name = nodeUser(node);
  await ensureRole(client, name, [
    { permission: 'Read', range: Range.prefix(namespacePrefix(root, node)) },
    { permission: 'Write', range: Range.prefix(namespacePartPrefix(root, node, 'status')) },
    { permission: 'Readwrite', range: new Range(heartbeatKey(root, node)) },
  ]);
  await ensureUser(client, name, password, name);
}
