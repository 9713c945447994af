// Why a host test cannot run here, as node:test `skip` text: one line naming what is missing and
// how to get it (scripts/run-tests.mjs groups the skips by this text in its closing summary).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const isRoot = process.getuid?.() === 0;

/** How slv's messages name the owner of a file this process made: root, or `uid N`. */
export const OWNER_NAME = isRoot ? 'root' : `uid ${process.getuid?.()}`;

/** Programs the host tests drive for real, with the Debian package that installs each. */
const PACKAGE_OF = {
  ip: 'iproute2',
  tc: 'iproute2',
  nft: 'nftables',
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  python3: 'python3',
  'lxc-start': 'lxc',
  newuidmap: 'uidmap',
} as const;
export type HostProgram = keyof typeof PACKAGE_OF;

/** Where `program` is on PATH (and the sbin directories, which a root PATH has), or undefined. */
export function findProgram(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * `false` when this process is root and has every program; else the reason to skip: not root
 * (naming what root is needed for), or the first missing program with its Debian package.
 */
export function needs(rootFor: string, ...programs: HostProgram[]): string | false {
  if (!isRoot) return `needs root (${rootFor}): run the tests as root`;
  const missing = programs.find((program) => findProgram(program) === undefined);
  return missing ? `needs ${missing}: apt-get install ${PACKAGE_OF[missing]}` : false;
}
