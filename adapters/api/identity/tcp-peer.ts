// Caller identity on loopback TCP: the kernel's socket tables (/proc/net/tcp, /proc/net/tcp6) list
// every TCP socket with its owner's uid, so the peer of an accepted loopback connection is the row
// whose local and remote endpoints are ours, reversed. SO_PEERCRED only exists for Unix sockets.
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';

export interface TcpEndpoint {
  address: string;
  port: number;
}

/** One row of /proc/net/tcp{,6}: endpoints as 16-byte IPv6 (IPv4 mapped), the owner, the inode. */
export interface TcpSocketRow {
  local: { address: Buffer; port: number };
  remote: { address: Buffer; port: number };
  uid: number;
  /** 0 for sockets no process holds any more (TIME_WAIT, orphans): their uid column reads 0. */
  inode: number;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** An IPv4 or IPv6 address as 16 bytes, IPv4 as `::ffff:a.b.c.d`, so both families compare. */
export function addressBytes(address: string): Buffer {
  const bytes = Buffer.alloc(16);
  if (isIPv4(address)) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    address.split('.').forEach((part, i) => (bytes[12 + i] = Number(part)));
    return bytes;
  }
  const plain = address.replace(/%.*$/, ''); // a zone index (fe80::1%eth0) is not part of the address
  if (!isIPv6(plain)) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  const embeddedV4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(plain)?.[1];
  const hexPart = embeddedV4 ? plain.slice(0, -embeddedV4.length) + '0:0' : plain;
  const [head = '', tail] = hexPart.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  if (embeddedV4) addressBytes(embeddedV4).copy(bytes, 12, 12);
  return bytes;
}

// The kernel prints each 32-bit word of the address with %08X from memory, i.e. in host byte order.
function procAddressBytes(hex: string): Buffer {
  const words = Buffer.alloc(hex.length / 2);
  for (let i = 0; i < hex.length / 8; i++) {
    const word = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    if (LITTLE_ENDIAN) words.writeUInt32LE(word, i * 4);
    else words.writeUInt32BE(word, i * 4);
  }
  if (words.length === 16) return words;
  const mapped = Buffer.alloc(16);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  words.copy(mapped, 12);
  return mapped;
}

function procEndpoint(field: string): { address: Buffer; port: number } | undefined {
  const match = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(field);
  return match ? { address: procAddressBytes(match[1]!), port: parseInt(match[2]!, 16) } : undefined;
}

/** The rows of a /proc/net/tcp or /proc/net/tcp6 text; the header and unparsable lines are skipped. */
export function parseProcNetTcp(text: string): TcpSocketRow[] {
  const rows: TcpSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    const local = procEndpoint(fields[1] ?? '');
    const remote = procEndpoint(fields[2] ?? '');
    const uid = Number(fields[7]);
    const inode = Number(fields[9]);
    if (local && remote && Number.isInteger(uid) && Number.isInteger(inode)) rows.push({ local, remote, uid, inode });
  }
  return rows;
}

async function readTable(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''; // no IPv6 in this kernel
    throw error;
  }
}

/**
 * The uid owning the other end of the TCP connection `local` ↔ `remote` as seen by this process,
 * or undefined when no live socket matches (the peer is remote or in another network namespace, or
 * it already closed: a closed socket's row reports uid 0 and must never be taken for root).
 */
export async function tcpPeerUid(local: TcpEndpoint, remote: TcpEndpoint, procNet = '/proc/net'): Promise<number | undefined> {
  const localAddress = addressBytes(local.address);
  const remoteAddress = addressBytes(remote.address);
  const tables = await Promise.all([readTable(`${procNet}/tcp`), readTable(`${procNet}/tcp6`)]);
  for (const row of tables.flatMap(parseProcNetTcp)) {
    const isPeer =
      row.local.port === remote.port && row.remote.port === local.port && row.local.address.equals(remoteAddress) && row.remote.address.equals(localAddress);
    if (isPeer) return row.inode === 0 ? undefined : row.uid;
  }
  return undefined;
}
