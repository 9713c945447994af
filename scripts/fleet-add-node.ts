// `npx tsx scripts/fleet-add-node.ts etcd://h1:2379,h2:2379[/root/] NODE` (password on stdin):
// create node NODE's etcd user `slv-node-NODE` and role, reaching only its namespace and heartbeat
// (docs/fleet.md "Roles"). Run as etcd root: ETCD_USER / ETCD_PASSWORD name the admin credentials.
// `--admin USER` instead creates a fleet API user over the whole root.
import { readFileSync } from 'node:fs';
import { connect, fleetConnection } from '../adapters/fleet/layout.js';
import { addFleetAdmin, addFleetNode, nodeUser } from '../adapters/fleet/rbac.js';

const [url, ...rest] = process.argv.slice(2);
const adminIndex = rest.indexOf('--admin');
const name = adminIndex >= 0 ? rest[adminIndex + 1] : rest[0];
if (!url || !name) {
  console.error('usage: fleet-add-node.ts etcd://HOST:PORT[,...][/ROOT/] NODE | --admin USER   (password on stdin)');
  process.exit(2);
}
const password = readFileSync(0, 'utf8').trim();
if (!password) {
  console.error("give the new user's password on stdin");
  process.exit(2);
}
const fleet = fleetConnection(url);
const { ETCD_USER, ETCD_PASSWORD } = process.env;
const client = connect({ ...fleet, ...(ETCD_USER && ETCD_PASSWORD ? { auth: { username: ETCD_USER, password: ETCD_PASSWORD } } : {}) });
try {
  if (adminIndex >= 0) await addFleetAdmin(client, fleet.root, name, password);
  else await addFleetNode(client, fleet.root, name, password);
  console.log(adminIndex >= 0 ? `fleet API user ${name}: read and write under ${fleet.root}` : `node ${name}: etcd user ${nodeUser(name)}, its namespace and heartbeat only`);
} catch (error) {
  console.error(`cannot add ${name}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  client.close();
}
