// The linux node adapter as root in a temporary root prefix with a test cgroup parent: the shared
// contract, then what it leaves on the node (passwd, shells, homes, keys, init script, processes,
// cgroup files) and that the host's /etc is untouched.
import { after } from 'node:test';
import { createLinuxAdapter } from '../adapters/linux/index.js';
import { runNodeAdapterContract } from './adapter-contract.js';
import { isRoot, makeTestRoot, NOT_ROOT, removeTestRoots } from './adapters-root.js';

after(removeTestRoots);

function linuxNode(label = 'linux') {
  const root = makeTestRoot(label);
  return { ...root, adapter: createLinuxAdapter({ dataDir: root.dataDir, root: root.root, cgroupParent: root.cgroupParent, uidRange: root.uidRange }) };
}

runNodeAdapterContract('linux (temporary root prefix, test cgroup parent)', async () => linuxNode().adapter, isRoot ? {} : { skip: NOT_ROOT });
