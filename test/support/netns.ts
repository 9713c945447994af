// Two network namespaces joined by a veth pair, for the bwlimit tests and bench: the sender side
// carries the limiter's HTB tree on its veth end; the receiver has a plain address and an exempt one.
import { randomBytes } from 'node:crypto';
import { runCommand } from '../../adapters/support/exec.js';
import { registerCleanup } from './host-cleanup.js';
import { needs } from './host-needs.js';

/** The `skip` of tests on a netns pair with the limiter (HTB with tc, nftables classification) and transfers. */
export const SKIP_NETNS = needs('network namespaces, tc and nftables', 'ip', 'tc', 'nft', 'python3');

export interface NetnsPair {
  sender: string;
  receiver: string;
  /** The sender's veth end (egress towards the receiver): the limited device. */
  device: string;
  receiverAddress: string;
  /** A second receiver address, inside `exemptCidr`. */
  exemptAddress: string;
  exemptCidr: string;
  /** Deletes both namespaces (and with them the veth pair, its qdiscs and nft tables). */
  remove(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await runCommand('ip', args, { timeoutMs: 10_000 });
}

/** Unique names per call, so concurrent test files and reruns never collide. */
export async function createNetnsPair(tag: string): Promise<NetnsPair> {
  const id = `${tag}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const sender = `slv-s-${id}`;
  const receiver = `slv-r-${id}`;
  const device = 'slv0';
  // Registered before the namespaces exist; deleting one that was never made fails harmlessly.
  const remove = registerCleanup(`network namespaces ${sender}, ${receiver}`, async () => {
    await Promise.all([sender, receiver].map((ns) => runCommand('ip', ['netns', 'delete', ns], { timeoutMs: 10_000 }).catch(() => undefined)));
  });
  try {
    for (const ns of [sender, receiver]) await ip('netns', 'add', ns);
    await ip('-n', sender, 'link', 'add', device, 'type', 'veth', 'peer', 'name', 'slv1', 'netns', receiver);
    await ip('-n', sender, 'addr', 'add', '10.201.0.1/24', 'dev', device);
    await ip('-n', receiver, 'addr', 'add', '10.201.0.2/24', 'dev', 'slv1');
    await ip('-n', receiver, 'addr', 'add', '10.202.0.2/32', 'dev', 'slv1');
    for (const [ns, link] of [
      [sender, device],
      [sender, 'lo'],
      [receiver, 'slv1'],
      [receiver, 'lo'],
    ] as const)
      await ip('-n', ns, 'link', 'set', link, 'up');
    await ip('-n', sender, 'route', 'add', '10.202.0.0/24', 'dev', device);
  } catch (error) {
    await remove();
    throw error;
  }
  return { sender, receiver, device, receiverAddress: '10.201.0.2', exemptAddress: '10.202.0.2', exemptCidr: '10.202.0.0/24', remove };
}

/** A network namespace reached from the host's own namespace over a veth pair (for senders on the host network). */
export interface HostLink {
  /** The host's veth end (egress towards the receiver): the limited device. */
  device: string;
  receiver: string;
  receiverAddress: string;
  /** Deletes the namespace (and with it the veth pair and its qdiscs). */
  remove(): Promise<void>;
}

/**
 * A receiver namespace linked to the host namespace, with unique names and a random 10.204.N.0/24,
 * so concurrent tests never collide. Changes the host (a veth end, a connected route) until remove().
 */
export async function createHostLink(tag: string): Promise<HostLink> {
  const hex = randomBytes(3).toString('hex');
  const receiver = `slv-r-${tag}-${process.pid}-${hex}`;
  const device = `slvh${hex}`;
  const subnet = `10.204.${randomBytes(1)[0]!}`;
  let created = false;
  const remove = async () => {
    if (created) await runCommand('ip', ['netns', 'delete', receiver], { timeoutMs: 10_000 }).catch(() => undefined);
    await runCommand('ip', ['link', 'delete', device], { timeoutMs: 10_000 }).catch(() => undefined); // gone with the namespace, unless that failed halfway
  };
  try {
    await ip('netns', 'add', receiver);
    created = true;
    await ip('link', 'add', device, 'type', 'veth', 'peer', 'name', 'slv1', 'netns', receiver);
    await ip('addr', 'add', `${subnet}.1/24`, 'dev', device);
    await ip('-n', receiver, 'addr', 'add', `${subnet}.2/24`, 'dev', 'slv1');
    await ip('link', 'set', device, 'up');
    for (const link of ['slv1', 'lo']) await ip('-n', receiver, 'link', 'set', link, 'up');
  } catch (error) {
    await remove();
    throw error;
  }
  return { device, receiver, receiverAddress: `${subnet}.2`, remove };
}

/** `tc -d class show` on the pair's device (iproute2 6.1 prints HTB classes as text even with -j). */
export async function showClasses(pair: NetnsPair): Promise<string> {
  return (await runCommand('tc', ['-n', pair.sender, '-d', 'class', 'show', 'dev', pair.device], { timeoutMs: 10_000 })).stdout;
}
