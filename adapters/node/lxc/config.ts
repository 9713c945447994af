// The LXC configuration of a sliver's container (<lxcPath>/<name>/config), pure: an unprivileged
// container with the sliver's id range, the host's network (as VServer slivers had), cgroups
// under slv's parent, and the limits of the effective rspec as cgroup keys LXC applies at start.
import type { IdRange } from './ids.js';

/** The line the vsh login helper looks for: the container belongs to the account with this uid. */
export function ownerLine(uid: number): string {
  return `# slv-owner-uid: ${uid}`;
}

export interface ContainerConfig {
  name: string;
  /** The sliver account's uid (its xid). */
  uid: number;
  range: IdRange;
  /** The merged overlay the container sees as `/`. */
  rootfs: string;
  /** The cgroup parent relative to each hierarchy's root (LXC's `lxc.cgroup.dir.*`). */
  cgroupDir: string;
  logFile: string;
  /** Cgroup keys with their values (`cpu.shares`, `memory.limit_in_bytes`, ...). */
  limits: ReadonlyArray<readonly [key: string, value: string]>;
  /** `lxc.cgroup` (v1) or `lxc.cgroup2` (v2): the prefix of limit keys. */
  cgroupKeyPrefix: 'lxc.cgroup' | 'lxc.cgroup2';
}

export function containerConfigText(config: ContainerConfig): string {
  const { name, range } = config;
  return [
    `# slv sliver container ${name}: written by slvd, rewritten on every change`,
    ownerLine(config.uid),
    `lxc.uts.name = ${name}`,
    `lxc.idmap = u 0 ${range.first} ${range.count}`,
    `lxc.idmap = g 0 ${range.first} ${range.count}`,
    // The host's network: slivers share the node's addresses; bwlimit tells them apart by uid.
    'lxc.net.0.type = none',
    'lxc.apparmor.profile = unconfined',
    'lxc.mount.auto = cgroup:mixed proc:mixed',
    // A user namespace without its own network namespace may not mount a fresh sysfs: bind the host's, read-only.
    'lxc.mount.entry = /sys sys none rbind,ro,create=dir 0 0',
    `lxc.rootfs.path = dir:${config.rootfs}`,
    `lxc.cgroup.dir.container = ${config.cgroupDir}/${name}`,
    `lxc.cgroup.dir.monitor = ${config.cgroupDir}.monitor/${name}`,
    `lxc.log.file = ${config.logFile}`,
    'lxc.log.level = WARN',
    ...config.limits.map(([key, value]) => `${config.cgroupKeyPrefix}.${key} = ${value}`),
    '',
  ].join('\n');
}
