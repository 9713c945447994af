// Unix accounts under a filesystem root: read from <root>/etc/passwd, changed only with the shadow
// utilities (`useradd`/`usermod`/`userdel --prefix ROOT`, which edit <root>/etc/* and never the
// host's), the class told by the login shell, the sliver type kept in the GECOS field. Shared by
// the linux and vserver adapters (vserver creates slivers with `vuseradd`, delegates like linux).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidError, NotFoundError } from '../../../resources/errors.js';
import { SLIVER_NAME_PATTERN } from '../../../schemas/types.js';
import { runCommand } from '../../support/exec.js';
import { KeyedSequencer } from '../../support/sequencer.js';
import type { AccountClass, AccountInfo } from '../contract.js';
import { PinnedDir } from './safe-write.js';
import { installFile } from './shells.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  /** As written in passwd: relative to the root the accounts live under. */
  home: string;
  shell: string;
}

/** The managed login shells by class (paths inside the root). */
export type ManagedShells = Record<AccountClass, string>;

export interface LocalAccountsOptions {
  /** Filesystem root holding etc/passwd and the homes ('/' on a real node). */
  root: string;
  shells: ManagedShells;
  /** uids handed to new accounts (useradd's UID_MIN/UID_MAX); default: <root>/etc/login.defs. */
  uidRange?: { min: number; max: number };
}

const GECOS_TYPE_PREFIX = 'slv ';
const TYPE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const sliverNamePattern = new RegExp(SLIVER_NAME_PATTERN);
/** utmp, ps and most tools of a Linux node keep at most 32 characters of a login name. */
export const MAX_ACCOUNT_NAME = 32;
const USERDEL_NO_SUCH_USER = 6;
/**
 * The uid each account name last had, kept after userdel (inside the root, beside the node's other
 * state), so an account created again under that name gets its uid back while it is free.
 */
export const ACCOUNT_UIDS_FILE = 'var/lib/slv/account-uids.json';

/** useradd/usermod/userdel lock <root>/etc/passwd and fail rather than wait: one at a time per root. */
const passwdEdits = new KeyedSequencer();

export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length !== 7) continue; // blank lines, NIS "+" entries
    const [name, , uid, gid, gecos, home, shell] = fields as [string, string, string, string, string, string, string];
    if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    entries.push({ name, uid: Number(uid), gid: Number(gid), gecos, home, shell });
  }
  return entries;
}

/** Names this node's account tools can create: any sliver name PLC can produce, up to 32 characters. */
export function assertAccountName(name: string): void {
  if (!sliverNamePattern.test(name) || name.length > MAX_ACCOUNT_NAME) {
    throw new InvalidError(`invalid account name "${name}": this node's accounts take a sliver name (letters, digits, _ and dots, as PLC makes them) of at most ${MAX_ACCOUNT_NAME} characters`, [
      { field: 'name', message: `must match ${SLIVER_NAME_PATTERN} and be at most ${MAX_ACCOUNT_NAME} characters` },
    ]);
  }
}

export class LocalAccounts {
  readonly root: string;
  private readonly shells: ManagedShells;
  private readonly uidRange: { min: number; max: number } | undefined;

  constructor(options: LocalAccountsOptions) {
    this.root = options.root;
    this.shells = options.shells;
    this.uidRange = options.uidRange;
  }

  /** A path inside the root. */
  path(inside: string): string {
    return join(this.root, inside);
  }

  entries(): PasswdEntry[] {
    return parsePasswd(readFileSync(this.path('/etc/passwd'), 'utf8'));
  }

  classOf(entry: PasswdEntry): AccountClass | undefined {
    return (Object.keys(this.shells) as AccountClass[]).find((accountClass) => this.shells[accountClass] === entry.shell);
  }

  info(entry: PasswdEntry): AccountInfo | undefined {
    const accountClass = this.classOf(entry);
    if (!accountClass) return undefined;
    const type = entry.gecos.startsWith(GECOS_TYPE_PREFIX) ? entry.gecos.slice(GECOS_TYPE_PREFIX.length) : undefined;
    return { name: entry.name, uid: entry.uid, class: accountClass, ...(type ? { type } : {}) };
  }

  list(): AccountInfo[] {
    return this.entries().flatMap((entry) => this.info(entry) ?? []);
  }

  find(name: string): PasswdEntry | undefined {
    return this.entries().find((entry) => entry.name === name);
  }

  get(name: string): AccountInfo | undefined {
    const entry = this.find(name);
    return entry && this.info(entry);
  }

  nameByUid(uid: number): string | undefined {
    return this.entries().find((entry) => entry.uid === uid)?.name;
  }

  /** The passwd entry of a managed account; NotFound otherwise. */
  require(name: string): PasswdEntry & { class: AccountClass } {
    assertAccountName(name);
    const entry = this.find(name);
    const accountClass = entry && this.classOf(entry);
    if (!entry || !accountClass) throw new NotFoundError('account', name);
    return { ...entry, class: accountClass };
  }

  /**
   * What createAccount must do: the existing account to return as is, or undefined to create it.
   * An account of another class, or one slv does not manage, is a conflict.
   */
  existing(name: string, accountClass: AccountClass, type?: string): AccountInfo | undefined {
    assertAccountName(name);
    if (type !== undefined && !TYPE_PATTERN.test(type)) {
      throw new InvalidError(`invalid sliver type "${type}": letters, digits, ".", "_" or "-", at most 64 characters`, [{ field: 'type', message: 'invalid' }]);
    }
    const entry = this.find(name);
    if (!entry) return undefined;
    const info = this.info(entry);
    if (!info) throw new ConflictError('account', name, `it exists and is not managed by slv (login shell ${entry.shell || 'none'})`);
    if (info.class !== accountClass) throw new ConflictError('account', name, `it exists with class ${info.class}, not ${accountClass}`);
    return info;
  }

  /** `useradd` with the class's shell, a home and a user group, and the uid the name had before if it is free. */
  async add(name: string, accountClass: AccountClass, type?: string): Promise<AccountInfo> {
    return passwdEdits.run(this.root, async () => {
      await runCommand('/usr/sbin/useradd', this.useraddArgs(name, accountClass, type, this.uidFor(name)));
      const info = this.requireInfo(name);
      this.rememberUid(name, info.uid);
      return info;
    });
  }

  private useraddArgs(name: string, accountClass: AccountClass, type: string | undefined, uid: number | undefined): string[] {
    return [
      ...this.prefixArgs(),
      '--badname', // the name already passed assertAccountName, which allows capitals, dots and a leading digit
      '--create-home',
      '--user-group',
      '--shell',
      this.shells[accountClass],
      ...(type === undefined ? [] : ['--comment', `${GECOS_TYPE_PREFIX}${type}`]),
      ...(this.uidRange ? ['--key', `UID_MIN=${this.uidRange.min}`, '--key', `UID_MAX=${this.uidRange.max}`] : []),
      ...(uid === undefined ? [] : ['--uid', String(uid)]),
      name,
    ];
  }

  /**
   * The uid for a new account: the one the name had before while it is free; otherwise one above
   * every uid in use or remembered (useradd's own choice, but never another name's remembered uid);
   * undefined lets useradd search the range for a gap when the top is reached.
   */
  private uidFor(name: string): number | undefined {
    const { min, max } = this.uidLimits();
    const remembered = this.rememberedUids();
    const inUse = new Set(this.entries().map((entry) => entry.uid));
    const own = remembered[name];
    if (own !== undefined && !inUse.has(own) && own >= min && own <= max) return own;
    const taken = [...inUse, ...Object.values(remembered)].filter((uid) => uid >= min && uid <= max);
    const next = Math.max(min - 1, ...taken) + 1;
    return next <= max ? next : undefined;
  }

  /** The range useradd hands uids from: the configured one, else UID_MIN/UID_MAX of <root>/etc/login.defs (useradd's defaults without them). */
  private uidLimits(): { min: number; max: number } {
    if (this.uidRange) return this.uidRange;
    const file = this.path('/etc/login.defs');
    const defs = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const setting = (key: string, fallback: number) => Number(new RegExp(`^\\s*${key}\\s+(\\d+)`, 'm').exec(defs)?.[1] ?? fallback);
    return { min: setting('UID_MIN', 1000), max: setting('UID_MAX', 60000) };
  }

  /** Name → uid of every account slv created under this root; an unreadable file is forgotten, not fatal. */
  rememberedUids(): Record<string, number> {
    const file = this.path(ACCOUNT_UIDS_FILE);
    if (!existsSync(file)) return {};
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, number>) : {};
    } catch {
      return {};
    }
  }

  private rememberUid(name: string, uid: number): void {
    const uids = this.rememberedUids();
    if (uids[name] === uid) return;
    installFile(this.root, ACCOUNT_UIDS_FILE, `${JSON.stringify({ ...uids, [name]: uid })}\n`, 0o644);
  }

  /**
   * `userdel --remove` (and its home); then `groupdel` of its user group, which userdel leaves when
   * the root's login.defs lacks USERGROUPS_ENAB (a bare prefix root). An absent account is fine.
   */
  async remove(name: string): Promise<void> {
    const entry = this.find(name);
    const gid = entry?.gid;
    await passwdEdits.run(this.root, async () => {
      if (entry) this.rememberUid(name, entry.uid); // also for accounts made before slv remembered uids
      await runCommand('/usr/sbin/userdel', [...this.prefixArgs(), '--remove', name], { okExitCodes: [USERDEL_NO_SUCH_USER] });
      if (gid !== undefined && this.hasEmptyUserGroup(name, gid)) await runCommand('/usr/sbin/groupdel', [...this.prefixArgs(), name]);
    });
  }

  private hasEmptyUserGroup(name: string, gid: number): boolean {
    return readFileSync(this.path('/etc/group'), 'utf8').split('\n').includes(`${name}:x:${gid}:`);
  }

  /** Remote login off: the account expires (sshd refuses expired accounts, keys or not). */
  async setLoginEnabled(name: string, enabled: boolean): Promise<void> {
    if (this.loginEnabled(name) === enabled) return;
    await passwdEdits.run(this.root, () => runCommand('/usr/sbin/usermod', [...this.prefixArgs(), '--expiredate', enabled ? '' : '1', name]));
  }

  /** False when the shadow entry carries an expiry date in the past. */
  loginEnabled(name: string): boolean {
    const line = readFileSync(this.path('/etc/shadow'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const expire = line?.split(':')[7] ?? '';
    return expire === '' || Number(expire) * 86_400_000 > Date.now();
  }

  /** `~/.ssh/authorized_keys`: one key per line, owned by the account, mode 0600, .ssh mode 0700. */
  writeKeys(name: string, keys: string[]): void {
    const entry = this.require(name);
    const bad = keys.findIndex((key) => /[\r\n\0]/.test(key));
    if (bad >= 0) throw new InvalidError(`invalid ssh key ${bad + 1} for "${name}": a key is one line`, [{ field: `keys[${bad}]`, message: 'contains a line break' }]);
    const owner = { uid: entry.uid, gid: entry.gid };
    const home = PinnedDir.open(this.path(entry.home));
    try {
      const ssh = PinnedDir.open(`${home.path}/.ssh`, { ...owner, mode: 0o700, parent: home });
      try {
        ssh.writeFile('authorized_keys', keys.map((key) => `${key.trim()}\n`).join(''), { ...owner, mode: 0o600 });
      } finally {
        ssh.close();
      }
    } finally {
      home.close();
    }
  }

  private requireInfo(name: string): AccountInfo {
    const entry = this.find(name);
    const info = entry && this.info(entry);
    if (!info) throw new NotFoundError('account', name);
    return info;
  }

  private prefixArgs(): string[] {
    return this.root === '/' ? [] : ['--prefix', this.root];
  }
}
