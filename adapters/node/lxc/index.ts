// The lxc node adapter: every sliver is an unprivileged LXC container named after it, with its own
// id range (ids.ts), the host's network, a copy-on-write root filesystem over a shared image
// (rootfs.ts) and its limits as cgroup keys (config.ts). The sliver's host account holds its uid
// (the xid the id range comes from) and its login shell, the vsh helper that lands ssh logins in
// the container. Delegates are plain accounts, as on the other adapters. docs/adapters.md has the
// paths, commands and the login helper's trust boundary.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { checkoutPath } from '../../../resources/checkout.js';
import { join, relative } from 'node:path';
import { BadRequestError, MissingImageError, NodeError, UnavailableError, UsageError } from '../../../resources/errors.js';
import type { RSpec } from '../../../schemas/types.js';
import { runCommand } from '../../support/exec.js';
import type { AccountClass, AccountInfo, CpuPinning, LimitReport, NodeAdapter } from '../contract.js';
import { formatCpuList } from '../../../resources/cpu-cores.js';
import { CpusetCgroups, defaultCpusetParent } from '../posix/cpuset.js';
import type { PasswdEntry } from '../posix/accounts.js';
import { cgroupVersionAt, cpuFiles, defaultCgroupParent, type CgroupVersion } from '../posix/cgroup.js';
import { appliedReport, applyBandwidth, mergeReports, unsupportedReport } from '../posix/limits.js';
import { mountPointOf } from '../posix/mounts.js';
import { PasswdNode, type PasswdNodeOptions } from '../posix/passwd-node.js';
import { killAll } from '../posix/processes.js';
import { PinnedDir, type Ownership } from '../posix/safe-write.js';
import { installProgram, registerShells } from '../posix/shells.js';
import { containerConfigText } from './config.js';
import { containerIdRange, setSubidGrant, type IdRange } from './ids.js';
import { mountRootfs, rootfsPaths, unmountRootfs } from './rootfs.js';

/** The sliver shell is the setuid vsh helper (native/lxc_vsh.c); delegates keep forward_api_calls. */
export const LXC_SHELLS = { sliver: '/bin/lxc-vsh', delegate: '/bin/forward_api_calls' } as const;
export const DEFAULT_LXC_PATH = '/var/lib/slv/lxc';
export const DEFAULT_IMAGE_DIR = '/var/lib/slv/images';
/** The image a sliver without a `vref` gets. */
export const DEFAULT_IMAGE = 'default';
const NATIVE = (file: string) => checkoutPath(`native/${file}`);
const DISK_UNSUPPORTED =
  "disk_max not enforced: a container's files belong to 65,536 ids, which per-user quotas cannot cap together (project quotas on the upper layer are not set up by this adapter)";
/** Paths that go into overlayfs options and LXC config lines verbatim. */
const PLAIN_PATH = /^\/[A-Za-z0-9_./-]*$/;
/** An image name is one directory under imageDir: no '/', no leading '.'. */
const IMAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** The file in a container's directory naming the image it was created from. */
const IMAGE_FILE = 'image-name';

export interface LxcAdapterOptions extends PasswdNodeOptions {
  /** Where containers live, one directory each (LXC's lxcpath); default /var/lib/slv/lxc. */
  lxcPath?: string;
  /** Where images live, one directory each, named by vref; default /var/lib/slv/images. */
  imageDir?: string;
  /** Added to `xid × 65536` for a container's first id (default 0). */
  idBase?: number;
  /** The cgroup holding one cgroup per sliver, as a path in the cpu hierarchy (default: `slv` there). */
  cgroupParent?: string;
  /** Memory limit of every container in bytes (the rspec has no memory key); absent = none. */
  memoryLimit?: number;
  /** The idmapped-mount helper (default native/idmap_mount of this checkout). */
  idmapMount?: string;
  /** The vsh login helper installed setuid as slivers' login shell (default native/lxc-vsh). */
  sliverShellSource?: string;
  commandTimeoutMs?: number;
}

function plainPath(what: string, path: string): string {
  if (!PLAIN_PATH.test(path)) throw new UsageError(`lxc: ${what} must be an absolute path of letters, digits, '_', '.', '-' and '/', got ${JSON.stringify(path)}`);
  return path;
}

export class LxcAdapter extends PasswdNode implements NodeAdapter {
  readonly kind: string = 'lxc';
  readonly lxcPath: string;
  readonly imageDir: string;
  readonly cgroupParent: string;
  private readonly idBase: number;
  private readonly memoryLimit: number | undefined;
  private readonly idmapMount: string;
  private readonly sliverShellSource: string;
  private readonly timeoutMs: number | undefined;
  private readonly cgroupVersion: CgroupVersion | undefined;
  /** Whole-core scheduling on cgroup v1 with the cpuset hierarchy mounted: `cpuset.cpus` of the container. */
  readonly cpuPinning: CpuPinning | undefined;
  /** Each pinned container's CPU list, written into its config with the limits (a restart pins again). */
  private readonly pinned = new Map<string, string>();
  /** The limits last written into each container's config, so a pin rewrites the config with them. */
  private readonly configLimits = new Map<string, ReadonlyArray<readonly [string, string]>>();
  private shellsInstalled = false;

  constructor(options: LxcAdapterOptions) {
    super(options, LXC_SHELLS);
    this.lxcPath = plainPath('lxcPath', options.lxcPath ?? DEFAULT_LXC_PATH);
    this.imageDir = plainPath('imageDir', options.imageDir ?? DEFAULT_IMAGE_DIR);
    this.cgroupParent = plainPath('cgroupParent', options.cgroupParent ?? defaultCgroupParent());
    this.idBase = options.idBase ?? 0;
    if (!Number.isSafeInteger(this.idBase) || this.idBase < 0) throw new UsageError(`lxc: idBase must be a non-negative integer, got ${JSON.stringify(options.idBase)}`);
    this.memoryLimit = options.memoryLimit;
    this.idmapMount = options.idmapMount ?? NATIVE('idmap_mount');
    this.sliverShellSource = options.sliverShellSource ?? NATIVE('lxc-vsh');
    this.timeoutMs = options.commandTimeoutMs;
    this.cgroupVersion = cgroupVersionAt(this.cgroupParent);
    const cpusetRoot = this.cgroupVersion === 1 ? defaultCpusetParent() : undefined;
    this.cpuPinning = cpusetRoot === undefined ? undefined : { available: async () => new CpusetCgroups(cpusetRoot).available(), pin: (name, cpus) => this.pin(name, cpus) };
  }

  /** The container runs on `cpus` from its next start (config) and now if running (`lxc-cgroup`). */
  private async pin(name: string, cpus: readonly number[]): Promise<void> {
    const entry = this.requireSliver(name);
    const list = formatCpuList(cpus);
    if (this.pinned.get(name) === list) return;
    this.pinned.set(name, list);
    this.writeConfig(name, entry, this.configLimits.get(name) ?? []);
    if (await this.running(name)) await this.lxc('lxc-cgroup', ['--', 'cpuset.cpus', list], name);
  }

  /** A sliver's container is built from the image `vref` names (`default` without one), once: its image stays. */
  async createAccount(name: string, accountClass: AccountClass, type?: string, vref?: string): Promise<AccountInfo> {
    const existing = this.accounts.existing(name, accountClass, type);
    if (existing) {
      if (existing.class === 'sliver') await this.ensureContainer(name, this.accounts.require(name));
      return existing;
    }
    const image = vref ?? DEFAULT_IMAGE;
    if (accountClass === 'sliver') this.requireImage(image);
    this.installShells();
    const info = await this.accounts.add(name, accountClass, type);
    if (accountClass === 'sliver') {
      mkdirSync(this.containerDir(name), { recursive: true, mode: 0o755 });
      const dir = PinnedDir.open(this.containerDir(name));
      try {
        dir.writeFile(IMAGE_FILE, `${image}\n`, { uid: 0, gid: 0, mode: 0o644 });
      } finally {
        dir.close();
      }
      await this.ensureContainer(name, this.accounts.require(name));
    }
    return info;
  }

  /** The image the sliver's container was created from. */
  imageOf(name: string): string {
    this.requireSliver(name);
    const file = join(this.containerDir(name), IMAGE_FILE);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : DEFAULT_IMAGE;
  }

  async destroyAccount(name: string): Promise<void> {
    const account = await this.beginDestroy(name);
    if (!account) return;
    if (account.class === 'sliver') {
      if (await this.running(name)) await this.lxc('lxc-stop', ['-k'], name);
      await unmountRootfs(rootfsPaths(this.containerDir(name)));
      rmSync(this.containerDir(name), { recursive: true, force: true });
      this.pinned.delete(name);
      this.configLimits.delete(name);
      setSubidGrant('/', this.range(account), false);
    }
    await killAll(account.uid, () => []); // a login session or the delegate shell
    await this.accounts.remove(name);
  }

  /** The host account's authorized_keys (sshd reads it) and the container root's. */
  override async setKeys(name: string, keys: string[]): Promise<void> {
    this.accounts.writeKeys(name, keys);
    const entry = this.accounts.require(name);
    if (entry.class !== 'sliver') return;
    await this.inContainerDir(name, entry, ['root', '.ssh'], 0o700, (dir, owner) => dir.writeFile('authorized_keys', keys.map((key) => `${key.trim()}\n`).join(''), { ...owner, mode: 0o600 }));
  }

  /** `/etc/rc.vinit` inside the container, owned by its root, mode 0755. */
  async setInitscript(name: string, script: string): Promise<void> {
    const entry = this.requireSliver(name);
    await this.inContainerDir(name, entry, ['etc'], 0o755, (dir, owner) => (script === '' ? dir.removeFile('rc.vinit') : dir.writeFile('rc.vinit', script, { ...owner, mode: 0o755 })));
  }

  /** Start the container, then run its init script with `start` as its root, in the background. */
  async start(name: string): Promise<void> {
    const entry = this.requireSliver(name);
    if (await this.running(name)) return;
    await this.ensureContainer(name, entry);
    try {
      await this.lxc('lxc-start', ['-d'], name);
    } catch (error) {
      throw new NodeError(`container ${name} did not start: ${this.logTail(name) || (error as Error).message}`, { cause: error });
    }
    if (existsSync(join(rootfsPaths(this.containerDir(name)).merged, 'etc/rc.vinit'))) {
      const run = 'mkdir -p /var/log; /etc/rc.vinit start </dev/null >/var/log/rc.vinit.log 2>&1 &';
      await this.lxc('lxc-attach', ['--clear-env', '--', '/bin/sh', '-c', run], name);
    }
  }

  /** Kill the container's init, and with it every process inside. */
  async stop(name: string): Promise<void> {
    this.requireSliver(name);
    if (await this.running(name)) await this.lxc('lxc-stop', ['-k'], name);
  }

  async isRunning(name: string): Promise<boolean> {
    this.requireSliver(name);
    return this.running(name);
  }

  async applyLimits(name: string, rspec: RSpec): Promise<LimitReport> {
    const entry = this.accounts.require(name);
    const enabled = rspec.enabled !== 0;
    await this.accounts.setLoginEnabled(name, enabled);
    if (entry.class !== 'sliver')
      return mergeReports([
        appliedReport(['enabled']),
        unsupportedReport(['cpu_min', 'cpu_share', 'disk_max'], 'a delegate has no container to limit'),
        await applyBandwidth(this.bandwidth, entry.uid, rspec),
      ]);
    if (!enabled) await this.stop(name);
    const cpuKeys = ['cpu_min', 'cpu_share'] as const;
    const version = this.cgroupVersion;
    const limits = version === undefined ? [] : [...cpuFiles(version, rspec), ...this.memoryFiles(version)];
    this.writeConfig(name, entry, limits);
    if (await this.running(name)) for (const [key, value] of limits) await this.lxc('lxc-cgroup', ['--', key, value], name); // '--': a value may be -1
    const cpu = version === undefined ? unsupportedReport(cpuKeys, `CPU limits not enforced: cgroup parent ${this.cgroupParent} is not on a cgroup filesystem`) : appliedReport(cpuKeys);
    const net = await applyBandwidth(this.bandwidth, entry.uid, rspec, this.range(entry));
    return mergeReports([appliedReport(['enabled']), cpu, unsupportedReport(['disk_max'], DISK_UNSUPPORTED), net]);
  }

  /** The container's id range: the ids its root and users have on the host. */
  idRange(name: string): IdRange {
    return this.range(this.requireSliver(name));
  }

  containerDir(name: string): string {
    return join(this.lxcPath, name);
  }

  private range(entry: PasswdEntry): IdRange {
    return containerIdRange(entry.uid, this.idBase);
  }

  private memoryFiles(version: CgroupVersion): Array<[string, string]> {
    if (this.memoryLimit === undefined) return [];
    return [[version === 1 ? 'memory.limit_in_bytes' : 'memory.max', String(this.memoryLimit)]];
  }

  private requireSliver(name: string): PasswdEntry {
    const entry = this.accounts.require(name);
    if (entry.class !== 'sliver') throw new BadRequestError(`"${name}" is a delegate account: it has no container`);
    return entry;
  }

  private requireImage(vref: string): string {
    if (!IMAGE_NAME.test(vref)) throw new MissingImageError(vref, `LXC image name ${JSON.stringify(vref)} is not a directory name (letters, digits, '_', '.', '-', not starting with '.')`);
    const image = join(this.imageDir, vref);
    if (!existsSync(join(image, 'sbin/init')) && !existsSync(join(image, 'bin/sh'))) {
      throw new MissingImageError(vref, `LXC image "${vref}" is missing: ${image} has no root filesystem (build one as docs/adapters.md says)`);
    }
    return image;
  }

  /** The id grant, the container directory, its mounted root filesystem and (first time) its config. */
  private async ensureContainer(name: string, entry: PasswdEntry): Promise<void> {
    const range = this.range(entry);
    const image = this.requireImage(this.imageOf(name));
    setSubidGrant('/', range, true);
    mkdirSync(this.containerDir(name), { recursive: true, mode: 0o755 });
    await mountRootfs(rootfsPaths(this.containerDir(name)), image, range, this.idmapMount);
    if (!existsSync(join(this.containerDir(name), 'config'))) this.writeConfig(name, entry, []);
  }

  private writeConfig(name: string, entry: PasswdEntry, limits: ReadonlyArray<readonly [string, string]>): void {
    this.configLimits.set(name, limits);
    const cpus = this.pinned.get(name);
    const dir = PinnedDir.open(this.containerDir(name));
    try {
      const text = containerConfigText({
        name,
        uid: entry.uid,
        range: this.range(entry),
        rootfs: rootfsPaths(this.containerDir(name)).merged,
        cgroupDir: relative(mountPointOf(this.cgroupParent), this.cgroupParent),
        logFile: join(this.containerDir(name), 'lxc.log'),
        limits: cpus === undefined ? limits : [...limits, ['cpuset.cpus', cpus]],
        cgroupKeyPrefix: this.cgroupVersion === 2 ? 'lxc.cgroup2' : 'lxc.cgroup',
      });
      dir.writeFile('config', text, { uid: 0, gid: 0, mode: 0o644 });
    } finally {
      dir.close();
    }
  }

  /**
   * Write into a directory of the container's tree (created owned by its root) without following
   * anything the container's root planted there: each level is pinned before the next is opened.
   */
  private async inContainerDir(name: string, entry: PasswdEntry, levels: string[], mode: number, write: (dir: PinnedDir, owner: Ownership) => void): Promise<void> {
    await this.ensureContainer(name, entry);
    const owner = { uid: this.range(entry).first, gid: this.range(entry).first };
    const opened = [PinnedDir.open(rootfsPaths(this.containerDir(name)).merged)];
    try {
      for (const [i, level] of levels.entries()) {
        const parent = opened[opened.length - 1]!;
        opened.push(PinnedDir.open(`${parent.path}/${level}`, { ...owner, mode: i === levels.length - 1 ? mode : 0o755, parent }));
      }
      write(opened[opened.length - 1]!, owner);
    } finally {
      for (const dir of opened.reverse()) dir.close();
    }
  }

  private async running(name: string): Promise<boolean> {
    if (!existsSync(join(this.containerDir(name), 'config'))) return false;
    const { stdout } = await this.lxc('lxc-info', ['-s', '-H'], name);
    return stdout.trim() === 'RUNNING';
  }

  private logTail(name: string): string {
    const log = join(this.containerDir(name), 'lxc.log');
    return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
  }

  private installShells(): void {
    if (this.shellsInstalled) return;
    if (!installProgram(this.root, LXC_SHELLS.sliver, this.sliverShellSource, 0o4755)) {
      throw new UnavailableError(`the vsh login helper ${this.sliverShellSource} is missing: build it with "make -C native" (docs/adapters.md)`);
    }
    installProgram(this.root, LXC_SHELLS.delegate, this.delegateShellSource);
    registerShells(this.root, Object.values(LXC_SHELLS));
    this.shellsInstalled = true;
  }

  private lxc(tool: string, args: string[], name: string) {
    return runCommand(`/usr/bin/${tool}`, ['-P', this.lxcPath, '-n', name, ...args], this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs });
  }
}

export function createLxcAdapter(options: LxcAdapterOptions): LxcAdapter {
  return new LxcAdapter(options);
}
