// The nftables side: packets are put into a sliver's HTB class by the sending socket's uid.
// This kernel's tc has no classifier that can match a uid or a mark (only u32), but HTB takes a
// packet's `skb->priority` as its classid when the major matches, and nftables can set it in the
// output hook. One map per class kind (uid → classid) keeps the rule count constant, so a packet
// costs two hash lookups however many slivers there are, and a sliver change is one element.
import { isIP } from 'node:net';
import { UsageError } from '../../resources/errors.js';
import { classid } from './classes.js';

export const SLIVER_MAP = 'sliver_class';
export const EXEMPT_MAP = 'exempt_class';

/** Splits exempt destinations by family; throws a UsageError naming each malformed CIDR. */
export function parseExemptDestinations(cidrs: readonly string[]): { ipv4: string[]; ipv6: string[] } {
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  const bad: string[] = [];
  for (const cidr of cidrs) {
    const match = typeof cidr === 'string' ? /^([^/]+)(?:\/(\d{1,3}))?$/.exec(cidr) : null;
    const family = match ? isIP(match[1]!) : 0;
    const prefix = match?.[2] === undefined ? undefined : Number(match[2]);
    if (!family || (prefix !== undefined && prefix > (family === 4 ? 32 : 128))) bad.push(JSON.stringify(cidr));
    else (family === 4 ? ipv4 : ipv6).push(cidr);
  }
  if (bad.length) throw new UsageError(`bwlimit: invalid exempt destination ${bad.join(', ')}: expected an IPv4 or IPv6 address with an optional /prefix`);
  return { ipv4, ipv6 };
}

function elements(values: string[]): string {
  return values.length ? ` elements = { ${values.join(', ')} };` : '';
}

function mapElements(entries: ReadonlyArray<[uid: number, minor: number]>): string[] {
  return entries.map(([uid, minor]) => `${uid} : ${classid(minor)}`);
}

export interface TableContents {
  exempt: { ipv4: string[]; ipv6: string[] };
  /** uid → the sliver's class minor and its exempt class minor. */
  slivers: ReadonlyArray<{ uid: number; minor: number; exemptMinor: number }>;
}

/**
 * The whole table, replaced atomically (one nft transaction: create-if-missing, delete, define).
 * Only packets leaving through the limited device are touched (another qdisc's classids are not
 * ours). Exempt destinations go first and `accept`, so the sliver map only sees the rest; a uid
 * missing from a map makes its rule not match, leaving the packet to HTB's default class.
 */
export function tableScript(table: string, device: string, contents: TableContents): string {
  const onDevice = `oifname ${JSON.stringify(device)}`;
  const sliverElements = mapElements(contents.slivers.map((s) => [s.uid, s.minor]));
  const exemptElements = mapElements(contents.slivers.map((s) => [s.uid, s.exemptMinor]));
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    `  set exempt4 { type ipv4_addr; flags interval; auto-merge;${elements(contents.exempt.ipv4)} }`,
    `  set exempt6 { type ipv6_addr; flags interval; auto-merge;${elements(contents.exempt.ipv6)} }`,
    `  map ${SLIVER_MAP} { typeof meta skuid : meta priority;${elements(sliverElements)} }`,
    `  map ${EXEMPT_MAP} { typeof meta skuid : meta priority;${elements(exemptElements)} }`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    `    ${onDevice} ip daddr @exempt4 meta priority set meta skuid map @${EXEMPT_MAP} accept`,
    `    ${onDevice} ip6 daddr @exempt6 meta priority set meta skuid map @${EXEMPT_MAP} accept`,
    `    ${onDevice} meta priority set meta skuid map @${SLIVER_MAP}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Map element changes of one batch, as one nft script (applied as one transaction). */
export function elementScript(table: string, added: TableContents['slivers'], removed: readonly number[]): string {
  const lines: string[] = [];
  if (added.length) {
    lines.push(`add element inet ${table} ${SLIVER_MAP} { ${mapElements(added.map((s) => [s.uid, s.minor])).join(', ')} }`);
    lines.push(`add element inet ${table} ${EXEMPT_MAP} { ${mapElements(added.map((s) => [s.uid, s.exemptMinor])).join(', ')} }`);
  }
  if (removed.length) {
    lines.push(`delete element inet ${table} ${SLIVER_MAP} { ${removed.join(', ')} }`);
    lines.push(`delete element inet ${table} ${EXEMPT_MAP} { ${removed.join(', ')} }`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
