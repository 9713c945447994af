// tc's language, both ways: the `tc -batch` lines that build the HTB tree, and the parser for
// `tc -d class show`, so a restarted limiter knows what the kernel already has.
//
// iproute2 6.1 ignores `-j` for HTB classes (it prints text), and prints rates rounded to a unit
// (`1234Kbit` for 1,234,567 bit/s). So what was applied is compared in tc's printed form: the
// limiter renders what it wants exactly as tc would print it and compares the two.
import { NodeError } from '../../../resources/errors.js';
import { QDISC_MAJOR, classid, type ClassSpec } from './classes.js';

/** A class as `tc -d class show` prints it. `quantum` is absent for inner classes. */
export interface ShownClass {
  minor: number;
  parentMinor: number | undefined;
  rate: string;
  ceil: string;
  quantum?: number;
}

/** The same rounding as iproute2's print_rate (decimal units, integer division). */
export function tcRateText(bytesPerSecond: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let rate = BigInt(bytesPerSecond) * 8n;
  let unit = 0;
  for (; unit < units.length - 1; unit++) {
    if (rate < 1000n) break;
    if (rate % 1000n !== 0n && rate < 1_000_000n) break;
    rate /= 1000n;
  }
  return `${rate}${units[unit]}bit`;
}

/** How tc will print this class once applied. */
export function shownForm(spec: ClassSpec): ShownClass {
  return { minor: spec.minor, parentMinor: spec.parentMinor, rate: tcRateText(spec.rateBytes), ceil: tcRateText(spec.ceilBytes), quantum: spec.quantum };
}

/** True when the kernel's class already is what `wanted` asks for (an unshown quantum matches). */
export function sameClass(wanted: ShownClass, shown: ShownClass | undefined): boolean {
  return (
    shown !== undefined && shown.parentMinor === wanted.parentMinor && shown.rate === wanted.rate && shown.ceil === wanted.ceil && (shown.quantum === undefined || shown.quantum === wanted.quantum)
  );
}

function parseHandle(handle: string, line: string): number {
  const match = /^([0-9a-f]+):([0-9a-f]*)$/.exec(handle);
  if (!match || parseInt(match[1]!, 16) !== QDISC_MAJOR) throw new NodeError(`unexpected class handle "${handle}" in tc output: ${line}`);
  return parseInt(match[2] || '0', 16);
}

/** Parse `tc -d class show dev DEV` (HTB classes of our qdisc); other lines are ignored. */
export function parseClassShow(output: string): Map<number, ShownClass> {
  const classes = new Map<number, ShownClass>();
  for (const line of output.split('\n')) {
    const head = /^class htb (\S+) (?:root|parent (\S+))/.exec(line);
    if (!head) continue;
    const rate = / rate (\S+)/.exec(line)?.[1];
    const ceil = / ceil (\S+)/.exec(line)?.[1];
    if (!rate || !ceil) throw new NodeError(`cannot read rate and ceil from tc output: ${line}`);
    const quantum = / quantum (\d+)/.exec(line)?.[1];
    const minor = parseHandle(head[1]!, line);
    classes.set(minor, {
      minor,
      parentMinor: head[2] === undefined ? undefined : parseHandle(head[2], line),
      rate,
      ceil,
      ...(quantum === undefined ? {} : { quantum: Number(quantum) }),
    });
  }
  return classes;
}

/** The root qdisc line: HTB with our handle, unclassified traffic to `defaultMinor`. */
export function rootQdiscLine(device: string, defaultMinor: number): string {
  return `qdisc replace dev ${device} root handle ${QDISC_MAJOR}: htb default ${defaultMinor.toString(16)}`;
}

export function classReplaceLine(device: string, spec: ClassSpec): string {
  const parent = spec.parentMinor === undefined ? `${QDISC_MAJOR}:` : classid(spec.parentMinor);
  return `class replace dev ${device} parent ${parent} classid ${classid(spec.minor)} htb rate ${spec.rateBytes}bps ceil ${spec.ceilBytes}bps quantum ${spec.quantum}`;
}

export function classDeleteLine(device: string, minor: number): string {
  return `class del dev ${device} classid ${classid(minor)}`;
}

/**
 * What `tc -j qdisc show dev DEV` says about the root: `ours` (HTB, our handle, our default class),
 * `stale` (our handle but another kind or default: tc cannot change it in place, so it must be
 * deleted first), or `other` (none, or another handle: `qdisc replace` swaps it out).
 */
export function rootQdiscState(qdiscJson: string, defaultMinor: number): 'ours' | 'stale' | 'other' {
  const qdiscs = JSON.parse(qdiscJson || '[]') as Array<{ kind?: string; handle?: string; root?: boolean; options?: { default?: string } }>;
  const root = qdiscs.find((q) => q.root === true);
  if (root?.handle !== `${QDISC_MAJOR}:`) return 'other';
  return root.kind === 'htb' && parseInt(root.options?.default ?? '', 16) === defaultMinor ? 'ours' : 'stale';
}

export function rootQdiscDeleteLine(device: string): string {
  return `qdisc del dev ${device} root`;
}

/** Bytes each class of our qdisc has sent since it was made, from `tc -s class show dev DEV`, by minor. */
export function parseClassCounters(output: string): Map<number, number> {
  const sent = new Map<number, number>();
  let minor: number | undefined;
  for (const line of output.split('\n')) {
    const head = /^class htb (\S+) /.exec(line);
    if (head) {
      minor = parseHandle(head[1]!, line);
      continue;
    }
    const bytes = /^\s+Sent (\d+) bytes/.exec(line)?.[1];
    if (bytes !== undefined && minor !== undefined) {
      sent.set(minor, Number(bytes));
      minor = undefined;
    }
  }
  return sent;
}
