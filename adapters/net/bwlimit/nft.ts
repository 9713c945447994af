// The nftables side: packets are put into a sliver's HTB class by the sending socket's uid.
// This kernel's tc has no classifier that can match a uid or a mark (only u32), but HTB takes a
// packet's `skb->priority` as its classid when the major matches, and nftables can set it in the
// output hook. The uid is read from the socket only while the socket has an owner: data a sliver
// left queued in a socket it closed has none. So the uid is kept as the connection's conntrack
// mark, and the class is looked up from that mark. Maps (uid → mark, mark → classid) keep the rule
// count constant: a packet costs a few hash lookups however many slivers there are, and a sliver
// change is one element per map.
import { isIP } from 'node:net';
import { UsageError } from '../../../resources/errors.js';
import { classid } from './classes.js';

export const MARK_MAP = 'sliver_mark';
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

export interface TableContents {
  exempt: { ipv4: string[]; ipv6: string[] };
  /**
   * Each sliver's uid (also its connections' conntrack mark), class minor and exempt class minor,
   * and the uid range (`A-B`) classified as the sliver too (a container's ids).
   */
  slivers: ReadonlyArray<SliverEntry>;
}

export interface SliverEntry {
  uid: number;
  minor: number;
  exemptMinor: number;
  alsoUids?: string;
}

/** The uid-to-mark elements of a sliver: its uid, and its range if it has one. */
function markElements(sliver: Pick<SliverEntry, 'uid' | 'alsoUids'>): string[] {
  return [`${sliver.uid} : ${sliver.uid}`, ...(sliver.alsoUids ? [`${sliver.alsoUids} : ${sliver.uid}`] : [])];
}

/** The three maps' elements for these slivers, by map name. */
function mapElements(slivers: TableContents['slivers']): Array<[map: string, elements: string[]]> {
  return [
    [MARK_MAP, slivers.flatMap(markElements)],
    [SLIVER_MAP, slivers.map((s) => `${s.uid} : ${classid(s.minor)}`)],
    [EXEMPT_MAP, slivers.map((s) => `${s.uid} : ${classid(s.exemptMinor)}`)],
  ];
}

/**
 * The whole table, replaced atomically (one nft transaction: create-if-missing, delete, define).
 * Only packets leaving through the limited device are touched (another qdisc's classids are not
 * ours). A packet whose socket has a sliver's uid marks its connection with that uid; every packet
 * of a marked connection then gets the class of its mark. Exempt destinations go first and
 * `accept`, so the sliver map only sees the rest; a mark missing from a map makes its rule not
 * match, leaving the packet to HTB's default class.
 */
export function tableScript(table: string, device: string, contents: TableContents): string {
  const onDevice = `oifname ${JSON.stringify(device)}`;
  const [marks, classes, exemptClasses] = mapElements(contents.slivers).map(([, values]) => elements(values));
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    `  set exempt4 { type ipv4_addr; flags interval; auto-merge;${elements(contents.exempt.ipv4)} }`,
    `  set exempt6 { type ipv6_addr; flags interval; auto-merge;${elements(contents.exempt.ipv6)} }`,
    `  map ${MARK_MAP} { typeof meta skuid : ct mark; flags interval;${marks} }`,
    `  map ${SLIVER_MAP} { typeof ct mark : meta priority;${classes} }`,
    `  map ${EXEMPT_MAP} { typeof ct mark : meta priority;${exemptClasses} }`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    `    ${onDevice} ct mark set meta skuid map @${MARK_MAP}`,
    `    ${onDevice} ip daddr @exempt4 meta priority set ct mark map @${EXEMPT_MAP} accept`,
    `    ${onDevice} ip6 daddr @exempt6 meta priority set ct mark map @${EXEMPT_MAP} accept`,
    `    ${onDevice} meta priority set ct mark map @${SLIVER_MAP}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Map element changes of one batch, as one nft script (applied as one transaction): slivers added,
 * slivers removed (with the range they had), and uid ranges moved from `from` to `to`.
 */
export function elementScript(
  table: string,
  added: TableContents['slivers'],
  removed: ReadonlyArray<Pick<SliverEntry, 'uid' | 'alsoUids'>>,
  moved: ReadonlyArray<{ uid: number; from?: string; to?: string }> = [],
): string {
  const lines: string[] = [];
  const deleted = moved.flatMap((m) => m.from ?? []);
  if (deleted.length) lines.push(`delete element inet ${table} ${MARK_MAP} { ${deleted.join(', ')} }`);
  if (removed.length) {
    lines.push(`delete element inet ${table} ${MARK_MAP} { ${removed.flatMap((s) => [String(s.uid), ...(s.alsoUids ? [s.alsoUids] : [])]).join(', ')} }`);
    for (const map of [SLIVER_MAP, EXEMPT_MAP]) lines.push(`delete element inet ${table} ${map} { ${removed.map((s) => s.uid).join(', ')} }`);
  }
  if (added.length) {
    for (const [map, values] of mapElements(added)) lines.push(`add element inet ${table} ${map} { ${values.join(', ')} }`);
  }
  const ranges = moved.flatMap((m) => (m.to ? [`${m.to} : ${m.uid}`] : []));
  if (ranges.length) lines.push(`add element inet ${table} ${MARK_MAP} { ${ranges.join(', ')} }`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
