// The host state the root tests may touch, recorded by scripts/run-tests.mjs before the root tier
// and compared after it (also after a failure or an interrupt): a test that leaves anything behind
// fails the run, named.
//   node --import tsx test/support/host-state.ts record FILE
//   node --import tsx test/support/host-state.ts check FILE   (exit 1 and the differences if any)
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_XMLRPC_SOCKET, LEGACY_XMLRPC_SOCKET } from '../../adapters/api/xmlrpc/server.js';
import { mountPoints } from '../../adapters/node/posix/mounts.js';
import { findProgram } from './host-needs.js';

/** Each aspect of the host as lines, so that a difference can be named line by line. */
type HostState = Record<string, string[]>;

const ACCOUNT_FILES = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/shells', '/etc/subuid', '/etc/subgid'];
const CGROUP_ROOT = '/sys/fs/cgroup';
const SETTLE_MS = 10_000;
/** Files whose lines hold secrets: only the first field is shown in a difference. */
const SECRET_FILES = new Set(['/etc/shadow', '/etc/gshadow']);

function commandLines(program: string, args: string[]): string[] {
  const path = findProgram(program);
  if (!path) return [`(${program} not installed)`];
  return execFileSync(path, args, { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/**
 * Every cgroup directory (recursively) the tests' parents may hold, in every mounted hierarchy (LXC
 * makes its cgroups in all of them): slv, slv-test-* and their LXC .monitor twins, and lxc.pivot.
 */
function testCgroups(): string[] {
  const walk = (dir: string): string[] => [
    dir,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => walk(join(dir, e.name))),
  ];
  const ours = (name: string) => /^slv(-test-[^.]+)?(\.monitor)?$/.test(name) || name === 'lxc.pivot';
  const mounted = new Set(mountPoints());
  const hierarchies = existsSync(CGROUP_ROOT)
    ? readdirSync(CGROUP_ROOT)
        .map((name) => join(CGROUP_ROOT, name))
        .filter((dir) => mounted.has(dir))
    : [];
  return hierarchies
    .flatMap((hierarchy) =>
      readdirSync(hierarchy, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && ours(entry.name))
        .flatMap((entry) => walk(join(hierarchy, entry.name))),
    )
    .sort();
}

/** Mounts test roots and LXC containers may make, all under /tmp/slv-*. */
function testMounts(): string[] {
  return mountPoints()
    .filter((mount) => mount.startsWith('/tmp/slv-'))
    .sort();
}

function sshdProcesses(): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'sshd') return [];
        return [`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()}`];
      } catch {
        return []; // exited meanwhile
      }
    })
    .sort();
}

function pathState(path: string): string[] {
  if (!existsSync(path)) return ['absent'];
  const stat = lstatSync(path);
  const type = stat.isSocket() ? 'socket' : stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other';
  return [`${type} mode ${(stat.mode & 0o7777).toString(8)} uid ${stat.uid} inode ${stat.ino} mtime ${stat.mtimeMs}`];
}

function recordHostState(): HostState {
  const state: HostState = {};
  for (const file of ACCOUNT_FILES) state[file] = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : ['(absent)'];
  state['network namespaces'] = commandLines('ip', ['netns', 'list']);
  state['nftables tables'] = commandLines('nft', ['list', 'tables']);
  state[`cgroups named slv*, lxc.pivot under ${CGROUP_ROOT}`] = testCgroups();
  state['mounts under /tmp/slv-*'] = testMounts();
  state['sshd processes'] = sshdProcesses();
  for (const socket of [DEFAULT_XMLRPC_SOCKET, LEGACY_XMLRPC_SOCKET]) state[socket] = pathState(socket);
  return state;
}

/** One line per difference: what was added or removed (or reordered) in which aspect. */
function describeDifferences(before: HostState, after: HostState): string[] {
  const differences: string[] = [];
  for (const aspect of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = before[aspect] ?? [];
    const now = after[aspect] ?? [];
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    const show = (line: string) => (SECRET_FILES.has(aspect) ? `${line.split(':')[0]}:…` : line);
    const added = now.filter((line) => !was.includes(line)).map((line) => `${aspect}: left behind: ${show(line)}`);
    const removed = was.filter((line) => !now.includes(line)).map((line) => `${aspect}: gone: ${show(line)}`);
    differences.push(...(added.length + removed.length > 0 ? [...added, ...removed] : [`${aspect}: same lines, changed order or blank lines`]));
  }
  return differences;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, file] = process.argv.slice(2);
  if (command === 'record' && file) {
    writeFileSync(file, JSON.stringify(recordHostState()));
  } else if (command === 'check' && file) {
    const before = JSON.parse(readFileSync(file, 'utf8')) as HostState;
    // A leftover stays; what is still going away (a process exiting, another checkout's test run
    // on this machine) is given a few seconds before it counts.
    let differences = describeDifferences(before, recordHostState());
    for (let waited = 0; differences.length > 0 && waited < SETTLE_MS; waited += 500) {
      await sleep(500);
      differences = describeDifferences(before, recordHostState());
    }
    for (const line of differences) console.log(line);
    process.exit(differences.length > 0 ? 1 : 0);
  } else {
    console.error('usage: host-state.ts record|check FILE');
    process.exit(2);
  }
}
