// bwlimit measured for real: TCP transfers sent as a sliver's uid across a veth pair between two
// network namespaces, measured on the receiver over the steady part (test/support/bwlimit-measure.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createBandwidthLimiter, type HtbBandwidthLimiter } from '../../../../adapters/net/bwlimit/index.js';
import type { BandwidthLimits } from '../../../../adapters/node/contract.js';
import { SKIP_NETNS, createNetnsPair, type NetnsPair } from '../../../support/netns.js';
import { UNLIMITED_UID, assertNear, transfer } from '../../../support/bwlimit-measure.js';

const SLIVER_UID = 1001;
const NODE_CAP = 50_000_000;

const sliverLimits = (net_max: number, net2_max: number): BandwidthLimits => ({ net_min: 8, net_max, net2_min: 8, net2_max, net_share: 1 });

let pair: NetnsPair;
let limiter: HtbBandwidthLimiter;

before(async () => {
  if (SKIP_NETNS) return;
  pair = await createNetnsPair('xfer');
  limiter = await createBandwidthLimiter({ device: pair.device, netns: pair.sender, nodeCap: NODE_CAP, exemptDestinations: [pair.exemptCidr] });
});
after(async () => {
  await limiter?.close();
  await pair?.remove();
});

test('a sliver is held to net_max, to net2_max towards exempt destinations, and an unmanaged uid is not', { skip: SKIP_NETNS, timeout: 30_000 }, async () => {
  await limiter.set(SLIVER_UID, sliverLimits(2_000_000, 6_000_000));
  const [limited, exempt, unlimited] = await Promise.all([
    transfer(pair, SLIVER_UID, pair.receiverAddress),
    transfer(pair, SLIVER_UID, pair.exemptAddress),
    transfer(pair, UNLIMITED_UID, pair.receiverAddress),
  ]);
  assertNear(limited, 2_000_000, 'sliver to a plain destination (net_max 2 Mbit/s)');
  assertNear(exempt, 6_000_000, 'sliver to an exempt destination (net2_max 6 Mbit/s)');
  assert.ok(unlimited > 4 * 2_000_000, `unmanaged uid: measured ${(unlimited / 1e6).toFixed(2)} Mbit/s, expected well above the sliver's 2 Mbit/s`);
});

test('changing net_max (as a Loan does) changes the measured rate', { skip: SKIP_NETNS, timeout: 30_000 }, async () => {
  await limiter.set(SLIVER_UID, sliverLimits(2_000_000, 6_000_000));
  await limiter.set(SLIVER_UID, sliverLimits(5_000_000, 6_000_000));
  assertNear(await transfer(pair, SLIVER_UID, pair.receiverAddress), 5_000_000, 'sliver after its net_max became 5 Mbit/s');
});

test('data left in a socket the sliver already closed is still held to its class', { skip: SKIP_NETNS, timeout: 30_000 }, async () => {
  await limiter.set(SLIVER_UID, sliverLimits(2_000_000, 6_000_000));
  // 1 MiB at 2 Mbit/s takes about 4 s; had the queued tail escaped to the default class it would take a fraction.
  assertNear(await transfer(pair, SLIVER_UID, pair.receiverAddress, 1 << 20), 2_000_000, 'sliver writing 1 MiB and closing at once');
});

test("a container's whole id range is held to its sliver's class, and a new net_max (a Loan) raises it", { skip: SKIP_NETNS, timeout: 30_000 }, async () => {
  // What the lxc adapter asks for: the sliver's xid plus its container's 65,536 ids (root inside is the first).
  const range = { first: SLIVER_UID * 65_536, count: 65_536 };
  await limiter.set(SLIVER_UID, sliverLimits(2_000_000, 6_000_000), range);
  const [containerRoot, containerUser] = await Promise.all([transfer(pair, range.first, pair.receiverAddress), transfer(pair, range.first + 1000, pair.receiverAddress)]);
  // Both share the one class: together they are held to net_max.
  assertNear(containerRoot + containerUser, 2_000_000, 'two processes of the container together (net_max 2 Mbit/s)');
  await limiter.set(SLIVER_UID, sliverLimits(5_000_000, 6_000_000), range);
  assertNear(await transfer(pair, range.first, pair.receiverAddress), 5_000_000, 'the container after its net_max became 5 Mbit/s');
  await limiter.set(SLIVER_UID, sliverLimits(2_000_000, 6_000_000));
  assert.ok((await transfer(pair, range.first, pair.receiverAddress)) > 4 * 2_000_000, "without the range, the container's ids are unclassified again");
});
