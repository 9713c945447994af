// The bwlimit adapter: per-sliver bandwidth limits as an HTB tree with tc, packets classified by
// the sending socket's uid with nftables (docs/bwlimit.md has the tree and how to inspect it).
//
// Changes are group-committed: every set()/remove() made while a batch is being applied waits for
// the next one, and a batch is one `nft -f -` (map elements) and one `tc -batch -` (classes),
// never one process per class. What was applied is kept in tc's printed form, read back from the
// kernel at start, so re-applying the same limits runs nothing, even across a restart.
import { InvalidError, UnavailableError, UsageError } from '../../../resources/errors.js';
import { runCommand } from '../../support/exec.js';
import type { BandwidthLimiter, BandwidthLimits, SentBytes, UidSpan } from '../../node/contract.js';
import { DEFAULT_MINOR, NODE_CAP_MINOR, exemptMinor, sliverClasses, sliverMinor, sliverOfMinor, treeClasses, validateLimits } from './classes.js';
import { elementScript, parseExemptDestinations, tableScript, type SliverEntry, type TableContents } from './nft.js';
import { classDeleteLine, classReplaceLine, parseClassCounters, parseClassShow, rootQdiscDeleteLine, rootQdiscLine, rootQdiscState, sameClass, shownForm, type ShownClass } from './tc.js';

export interface BandwidthLimiterOptions {
  /** The egress interface whose root qdisc the limiter owns. */
  device: string;
  /** Node cap in bit/s: every sliver's non-exempt traffic (and unclassified traffic) shares it. */
  nodeCap: number;
  /** Destinations whose traffic goes to the slivers' exempt classes (net2_min/net2_max), as CIDRs. */
  exemptDestinations?: readonly string[];
  /** Cap of all exempt traffic in bit/s (default: nodeCap); not counted against the node cap. */
  exemptCap?: number;
  /** Run every tc/nft command inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** The nftables table (family inet) the limiter owns; default `slv_bwlimit`. */
  nftTable?: string;
  /** The lowest uid that can have classes; the next UID_CAPACITY uids are mapped. Default 1000. */
  firstUid?: number;
  commandTimeoutMs?: number;
}

/** Processes the limiter has run, by purpose (tests and benches read these). */
export interface CommandCounts {
  tcBatches: number;
  nftScripts: number;
  reads: number;
}

type Change = { limits: BandwidthLimits; alsoUids: string | undefined } | 'remove';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function positiveRate(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 8) throw new UsageError(`bwlimit: ${name} must be an integer number of bit/s >= 8, got ${JSON.stringify(value)}`);
  return value;
}

function checkedName(what: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || !NAME.test(value) || value.length > maxLength) {
    throw new UsageError(`bwlimit: invalid ${what} ${JSON.stringify(value)}: expected letters, digits, '_', '.', '-' (at most ${maxLength} characters)`);
  }
  return value;
}

export class HtbBandwidthLimiter implements BandwidthLimiter {
  readonly counts: CommandCounts = { tcBatches: 0, nftScripts: 0, reads: 0 };
  private readonly device: string;
  /** The configured cap, used while PLC sets none. */
  private readonly configuredNodeCap: number;
  private nodeCap: number;
  private readonly exemptCap: number;
  private readonly exempt: TableContents['exempt'];
  private readonly netns: string | undefined;
  private readonly table: string;
  private readonly firstUid: number;
  private readonly timeoutMs: number | undefined;
  /** uid → its two classes (sliver, exempt) as tc prints them, as they are in the kernel. */
  private applied = new Map<number, ShownClass[]>();
  /**
   * uid → the uid range (`A-B`) classified as it. Not read back at start: a restart forgets the
   * ranges until the node adapter sets the sliver again (slvd re-applies every sliver's limits).
   */
  private appliedRanges = new Map<number, string>();
  /** Changes waiting for the next batch (the latest change per uid wins; all its callers wait). */
  private pending = new Map<number, { change: Change; waiters: Waiter[] }>();
  /** The batch being applied now. */
  private inFlight = new Map<number, Change>();
  private draining: Promise<void> | undefined;
  private closed = false;

  static async start(options: BandwidthLimiterOptions): Promise<HtbBandwidthLimiter> {
    const limiter = new HtbBandwidthLimiter(options);
    await limiter.reconcile();
    return limiter;
  }

  private constructor(options: BandwidthLimiterOptions) {
    this.device = checkedName('device', options.device, 15);
    this.configuredNodeCap = positiveRate('nodeCap', options.nodeCap);
    this.nodeCap = this.configuredNodeCap;
    this.exemptCap = options.exemptCap === undefined ? this.nodeCap : positiveRate('exemptCap', options.exemptCap);
    this.exempt = parseExemptDestinations(options.exemptDestinations ?? []);
    this.netns = options.netns === undefined ? undefined : checkedName('netns', options.netns, 255);
    this.table = checkedName('nftTable', options.nftTable ?? 'slv_bwlimit', 64);
    const firstUid = options.firstUid ?? 1000;
    if (!Number.isSafeInteger(firstUid) || firstUid < 1) throw new UsageError(`bwlimit: firstUid must be a positive integer, got ${JSON.stringify(firstUid)}`);
    this.firstUid = firstUid;
    this.timeoutMs = options.commandTimeoutMs;
  }

  async set(uid: number, limits: BandwidthLimits, alsoUids?: UidSpan): Promise<void> {
    const minor = sliverMinor(uid, this.firstUid);
    const clean = validateLimits(uid, limits);
    const range = alsoUids && uidSpanText(uid, alsoUids);
    const current = this.applied.get(uid);
    const settled = !this.pending.has(uid) && !this.inFlight.has(uid);
    const sameRange = this.appliedRanges.get(uid) === range;
    if (settled && current && sameRange && sliverClasses(minor, clean).every((spec, i) => sameClass(shownForm(spec), current[i]))) return;
    return this.enqueue(uid, { limits: clean, alsoUids: range });
  }

  /**
   * Idempotent like every node-side removal: a uid without classes (never set, lost in a reboot, or
   * outside the mapped range so it never could have any) is already removed.
   */
  async remove(uid: number): Promise<void> {
    const expected = this.pending.get(uid)?.change ?? this.inFlight.get(uid) ?? (this.applied.has(uid) ? 'set' : 'remove');
    if (expected === 'remove') return;
    return this.enqueue(uid, 'remove');
  }

  async list(): Promise<number[]> {
    await this.idle();
    return [...this.applied.keys()].sort((a, b) => a - b);
  }

  /** One `tc -s class show`: the byte counters of every sliver's class pair, by uid. */
  async sentBytes(): Promise<Map<number, SentBytes>> {
    const counters = parseClassCounters(await this.read('tc', ['-s', 'class', 'show', 'dev', this.device]));
    const sent = new Map<number, SentBytes>();
    for (const [minor, bytes] of counters) {
      const owner = sliverOfMinor(minor, this.firstUid);
      if (!owner) continue;
      const entry = sent.get(owner.uid) ?? { bytes: 0, exemptBytes: 0 };
      entry[owner.exempt ? 'exemptBytes' : 'bytes'] = bytes;
      sent.set(owner.uid, entry);
    }
    return sent;
  }

  /**
   * Replace the node cap (and the default class's ceiling under it); the exempt cap stays as
   * configured. Sliver classes are untouched: they hang under the node cap class.
   */
  async setNodeCap(bitsPerSecond: number | undefined): Promise<void> {
    const next = bitsPerSecond === undefined ? this.configuredNodeCap : positiveRate('node cap', bitsPerSecond);
    if (next === this.nodeCap) return;
    if (this.closed) throw new UnavailableError('the bandwidth limiter is closed');
    const lines = treeClasses(next, this.exemptCap)
      .filter((spec) => spec.minor === NODE_CAP_MINOR || spec.minor === DEFAULT_MINOR)
      .map((spec) => classReplaceLine(this.device, spec));
    await this.tcBatch(lines);
    this.nodeCap = next;
  }

  /** Waits for queued changes; the classes and rules stay in the kernel for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  /**
   * Make the kernel's tree match the configuration and learn which slivers already have classes:
   * the root qdisc and fixed classes are (re)created where missing or different, half-present
   * sliver class pairs are removed, and the nft table is rewritten from what tc holds.
   */
  private async reconcile(): Promise<void> {
    const lines: string[] = [];
    const root = rootQdiscState(await this.read('tc', ['-j', 'qdisc', 'show', 'dev', this.device]), DEFAULT_MINOR);
    if (root === 'stale') lines.push(rootQdiscDeleteLine(this.device));
    if (root !== 'ours') lines.push(rootQdiscLine(this.device, DEFAULT_MINOR));
    // A new root qdisc starts without classes: nothing of ours survives the swap.
    const shown = root === 'ours' ? parseClassShow(await this.read('tc', ['-d', 'class', 'show', 'dev', this.device])) : new Map<number, ShownClass>();
    for (const spec of treeClasses(this.nodeCap, this.exemptCap)) {
      if (!sameClass(shownForm(spec), shown.get(spec.minor))) lines.push(classReplaceLine(this.device, spec));
    }
    const pairs = new Map<number, { sliver?: ShownClass; exempt?: ShownClass }>();
    for (const [minor, shownClass] of shown) {
      const owner = sliverOfMinor(minor, this.firstUid);
      if (!owner) continue;
      const pair = pairs.get(owner.uid) ?? {};
      pair[owner.exempt ? 'exempt' : 'sliver'] = shownClass;
      pairs.set(owner.uid, pair);
    }
    const applied = new Map<number, ShownClass[]>();
    for (const [uid, { sliver, exempt }] of pairs) {
      if (sliver && exempt) applied.set(uid, [sliver, exempt]);
      else lines.push(classDeleteLine(this.device, (sliver ?? exempt)!.minor));
    }
    if (lines.length) await this.tcBatch(lines);
    await this.nftScript(tableScript(this.table, this.device, { exempt: this.exempt, slivers: [...applied.keys()].map((uid) => this.minors(uid)) }));
    this.applied = applied;
    this.appliedRanges = new Map();
  }

  private minors(uid: number, alsoUids?: string): SliverEntry {
    const minor = sliverMinor(uid, this.firstUid);
    return { uid, minor, exemptMinor: exemptMinor(minor), ...(alsoUids ? { alsoUids } : {}) };
  }

  private enqueue(uid: number, change: Change): Promise<void> {
    if (this.closed) return Promise.reject(new UnavailableError('the bandwidth limiter is closed'));
    return new Promise((resolve, reject) => {
      const entry = this.pending.get(uid);
      if (entry) {
        entry.change = change;
        entry.waiters.push({ resolve, reject });
      } else {
        this.pending.set(uid, { change, waiters: [{ resolve, reject }] });
      }
      // Let every call made in this tick join the batch before it starts.
      this.draining ??= new Promise<void>((started) => setImmediate(started)).then(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.size) {
      const batch = this.pending;
      this.pending = new Map();
      this.inFlight = new Map([...batch].map(([uid, entry]) => [uid, entry.change]));
      const waiters = [...batch.values()].flatMap((entry) => entry.waiters);
      try {
        await this.apply(this.inFlight);
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
      } finally {
        this.inFlight = new Map();
      }
    }
    this.draining = undefined;
  }

  private async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async apply(batch: Map<number, Change>): Promise<void> {
    const tcLines: string[] = [];
    const added: SliverEntry[] = [];
    const removed: Array<Pick<SliverEntry, 'uid' | 'alsoUids'>> = [];
    const moved: Array<{ uid: number; from?: string; to?: string }> = [];
    const next = new Map(this.applied);
    const nextRanges = new Map(this.appliedRanges);
    for (const [uid, change] of batch) {
      const current = this.applied.get(uid);
      const currentRange = this.appliedRanges.get(uid);
      const minors = this.minors(uid, change === 'remove' ? undefined : change.alsoUids);
      if (change === 'remove') {
        if (!current) continue;
        removed.push({ uid, ...(currentRange ? { alsoUids: currentRange } : {}) });
        tcLines.push(classDeleteLine(this.device, minors.minor), classDeleteLine(this.device, minors.exemptMinor));
        next.delete(uid);
        nextRanges.delete(uid);
        continue;
      }
      if (change.alsoUids) nextRanges.set(uid, change.alsoUids);
      else nextRanges.delete(uid);
      if (!current) added.push(minors);
      else if (currentRange !== change.alsoUids) moved.push({ uid, ...(currentRange ? { from: currentRange } : {}), ...(change.alsoUids ? { to: change.alsoUids } : {}) });
      const specs = sliverClasses(minors.minor, change.limits);
      const wanted = specs.map(shownForm);
      if (current && wanted.every((w, i) => sameClass(w, current[i]))) continue;
      tcLines.push(...specs.map((spec) => classReplaceLine(this.device, spec)));
      next.set(uid, wanted);
    }
    try {
      // Rules first: a uid mapped to a class that does not exist yet still falls to the default
      // class, and a removed uid stops being classified before its classes go.
      const elements = elementScript(this.table, added, removed, moved);
      if (elements) await this.nftScript(elements);
      if (tcLines.length) await this.tcBatch(tcLines);
    } catch (error) {
      // tc stops at the first failing line: learn what the kernel now holds before anything else.
      await this.reconcile().catch(() => undefined);
      throw error;
    }
    this.applied = next;
    this.appliedRanges = nextRanges;
  }

  private command(file: string, args: string[]): [string, string[]] {
    return this.netns === undefined ? [file, args] : ['ip', ['netns', 'exec', this.netns, file, ...args]];
  }

  private async read(file: string, args: string[]): Promise<string> {
    this.counts.reads++;
    const [cmd, cmdArgs] = this.command(file, args);
    return (await runCommand(cmd, cmdArgs, { timeoutMs: this.timeoutMs })).stdout.trim();
  }

  private async tcBatch(lines: string[]): Promise<void> {
    this.counts.tcBatches++;
    const [cmd, args] = this.command('tc', ['-batch', '-']);
    await runCommand(cmd, args, { input: `${lines.join('\n')}\n`, timeoutMs: this.timeoutMs });
  }

  private async nftScript(script: string): Promise<void> {
    this.counts.nftScripts++;
    const [cmd, args] = this.command('nft', ['-f', '-']);
    await runCommand(cmd, args, { input: script, timeoutMs: this.timeoutMs });
  }
}

/** `A-B` as nft writes a range; a range holding the sliver's own uid or past the largest uid is refused. */
function uidSpanText(uid: number, span: UidSpan): string {
  const last = span.first + span.count - 1;
  if (!Number.isSafeInteger(span.first) || !Number.isSafeInteger(span.count) || span.first < 0 || span.count < 1 || last > 4_294_967_294 || (uid >= span.first && uid <= last)) {
    throw new InvalidError(`invalid uid range for uid ${uid}: ${span.first}+${span.count} must be a non-empty range of valid uids without the sliver's own uid`, [
      { field: 'alsoUids', message: 'invalid range' },
    ]);
  }
  return `${span.first}-${last}`;
}

/** Validate the options, reconcile the device's tree with them, and return the running limiter. */
export function createBandwidthLimiter(options: BandwidthLimiterOptions): Promise<HtbBandwidthLimiter> {
  return HtbBandwidthLimiter.start(options);
}
