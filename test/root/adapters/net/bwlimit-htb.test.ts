// bwlimit: the uid → classid mapping and tc's printed form (pure), then the limiter against a real
// HTB tree and real nftables maps in a network namespace (root only).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCommand } from '../../../../adapters/support/exec.js';
import { UID_CAPACITY, exemptMinor, sliverMinor, sliverOfMinor, validateLimits } from '../../../../adapters/net/bwlimit/classes.js';
import { createBandwidthLimiter, type BandwidthLimiterOptions, type HtbBandwidthLimiter } from '../../../../adapters/net/bwlimit/index.js';
import { parseClassShow, tcRateText } from '../../../../adapters/net/bwlimit/tc.js';
import type { BandwidthLimits } from '../../../../adapters/node/contract.js';
import { CommandError, InvalidError, UsageError } from '../../../../resources/errors.js';
import { SKIP_NETNS, createNetnsPair, showClasses, type NetnsPair } from '../../../support/netns.js';

const limits = (net_max: number, extra: Partial<BandwidthLimits> = {}): BandwidthLimits => ({ net_min: 8, net_max, net2_min: 8, net2_max: 2 * net_max, net_share: 1, ...extra });

describe('uid → classid mapping', () => {
  test('is one-to-one over the whole mapped range and inverts', () => {
    const seen = new Set<number>();
    for (let uid = 1000; uid < 1000 + UID_CAPACITY; uid++) {
      const minor = sliverMinor(uid, 1000);
      assert.ok(minor > 0x3 && minor <= 0xffff && exemptMinor(minor) <= 0xffff, `minor ${minor} of uid ${uid}`);
      assert.ok(!seen.has(minor) && !seen.has(exemptMinor(minor)));
      seen.add(minor).add(exemptMinor(minor));
      assert.deepEqual(sliverOfMinor(minor, 1000), { uid, exempt: false });
      assert.deepEqual(sliverOfMinor(exemptMinor(minor), 1000), { uid, exempt: true });
    }
    for (const tree of [1, 2, 3]) assert.equal(sliverOfMinor(tree, 1000), undefined);
  });

  test('uids outside the range are refused, naming the uid and the range', () => {
    for (const uid of [999, 1000 + UID_CAPACITY, 1.5, Number.NaN]) {
      assert.throws(
        () => sliverMinor(uid, 1000),
        (e: unknown) => e instanceof InvalidError && e.message.includes(`uid ${uid}`) && e.message.includes(`1000 to ${999 + UID_CAPACITY}`),
      );
    }
  });
});

describe('limits validation', () => {
  test('names every bad field', () => {
    assert.throws(() => validateLimits(1001, limits(1000, { net_min: 2000 })), /uid 1001: net_min \(2000\) exceeds net_max \(1000\)/);
    assert.throws(() => validateLimits(1001, limits(1000, { net2_min: 5000 })), /net2_min \(5000\) exceeds net2_max \(2000\)/);
    assert.throws(() => validateLimits(1001, limits(1000, { net_share: 0 })), /net_share must be at least 1/);
    assert.throws(
      () => validateLimits(1001, { ...limits(1000), net_max: -1, net2_max: 1.5 }),
      (e: unknown) => e instanceof InvalidError && e.causes.map((c) => c.field).join() === 'net_max,net2_max' && /net_max must be a non-negative integer, got -1/.test(e.message),
    );
    assert.deepEqual(validateLimits(1001, { ...limits(1000), extra: 1 } as BandwidthLimits), limits(1000));
  });
});

describe("tc's printed form", () => {
  test('rates round like iproute2 (values read from a real tc 6.1)', () => {
    // bit/s asked (bytes/s = floor(bits / 8)) → what `tc class show` printed for it.
    const printed: Array<[number, string]> = [
      [8, '8bit'],
      [999_999, '999992bit'],
      [1_000_008, '1Mbit'],
      [1_234_567, '1234Kbit'],
      [1_500_000, '1500Kbit'],
      [2_000_000, '2Mbit'],
      [100_000_000, '100Mbit'],
      [123_456_789_000, '123456Mbit'],
    ];
    for (const [bits, text] of printed) assert.equal(tcRateText(Math.floor(bits / 8)), text, `${bits} bit/s`);
  });

  test('class lines parse into parent, rates and quantum', () => {
    const shown = parseClassShow(
      [
        'class htb 1:11 parent 1:1 prio 0 quantum 1514 rate 8bit ceil 2Mbit linklayer ethernet burst 225b/1 mpu 0b cburst 1600b/1 mpu 0b level 0 ',
        'class htb 1:1 root rate 100Mbit ceil 100Mbit linklayer ethernet burst 1600b/1 mpu 0b cburst 1600b/1 mpu 0b level 7 ',
        'class fq_codel 8001:1 parent 8001: ',
      ].join('\n'),
    );
    assert.deepEqual(
      [...shown.values()],
      [
        { minor: 0x11, parentMinor: 1, rate: '8bit', ceil: '2Mbit', quantum: 1514 },
        { minor: 1, parentMinor: undefined, rate: '100Mbit', ceil: '100Mbit' },
      ],
    );
  });
});

describe('options', () => {
  const good: BandwidthLimiterOptions = { device: 'eth0', nodeCap: 1_000_000 };
  for (const [what, options, pattern] of [
    ['device', { ...good, device: 'eth0; rm -rf /' }, /invalid device "eth0; rm -rf \/"/],
    ['nodeCap', { ...good, nodeCap: 0 }, /nodeCap must be an integer number of bit\/s >= 8, got 0/],
    ['exempt CIDR', { ...good, exemptDestinations: ['10.0.0.0/8', '10.0.0.300/8', '2001:db8::/129'] }, /invalid exempt destination "10.0.0.300\/8", "2001:db8::\/129"/],
    ['nft table', { ...good, nftTable: 'a b' }, /invalid nftTable "a b"/],
    ['firstUid', { ...good, firstUid: -5 }, /firstUid must be a positive integer/],
  ] as const) {
    test(`a bad ${what} is refused before any command runs`, async () => {
      await assert.rejects(createBandwidthLimiter(options as BandwidthLimiterOptions), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
    });
  }
});

describe('the limiter on a real HTB tree in a network namespace', { skip: SKIP_NETNS, timeout: 60_000 }, () => {
  let pair: NetnsPair;
  const open: HtbBandwidthLimiter[] = [];
  const start = async (extra: Partial<BandwidthLimiterOptions> = {}) => {
    const limiter = await createBandwidthLimiter({ device: pair.device, netns: pair.sender, nodeCap: 50_000_000, exemptDestinations: [pair.exemptCidr], ...extra });
    open.push(limiter);
    return limiter;
  };
  const mapElements = async (map: string): Promise<Array<[number, string | number]>> => {
    const listed = JSON.parse((await runCommand('ip', ['netns', 'exec', pair.sender, 'nft', '-j', 'list', 'map', 'inet', 'slv_bwlimit', map], { timeoutMs: 10_000 })).stdout) as {
      nftables: Array<{ map?: { elem?: Array<[number, string | number]> } }>;
    };
    return (listed.nftables.find((entry) => entry.map)?.map?.elem ?? []).sort((a, b) => a[0] - b[0]);
  };

  before(async () => {
    pair = await createNetnsPair('htb');
  });
  after(async () => {
    await Promise.all(open.map((limiter) => limiter.close()));
    await pair?.remove();
  });

  test('builds the tree and one class pair per sliver, visible in tc and in the nft maps (uid → conntrack mark → classid)', { timeout: 20_000 }, async () => {
    const limiter = await start();
    await Promise.all([limiter.set(1001, limits(2_000_000)), limiter.set(1500, limits(1_234_567, { net_min: 64_000, net_share: 3 }))]);
    const shown = parseClassShow(await showClasses(pair));
    assert.deepEqual(shown.get(0x1), { minor: 0x1, parentMinor: undefined, rate: '50Mbit', ceil: '50Mbit' });
    assert.equal(shown.get(0x2)?.parentMinor, 0x1);
    assert.equal(shown.get(0x3)?.parentMinor, undefined);
    const minor1001 = sliverMinor(1001, 1000);
    const minor1500 = sliverMinor(1500, 1000);
    assert.deepEqual(shown.get(minor1001), { minor: minor1001, parentMinor: 0x1, rate: '8bit', ceil: '2Mbit', quantum: 1514 });
    assert.deepEqual(shown.get(exemptMinor(minor1001)), { minor: exemptMinor(minor1001), parentMinor: 0x3, rate: '8bit', ceil: '4Mbit', quantum: 1514 });
    assert.deepEqual(shown.get(minor1500), { minor: minor1500, parentMinor: 0x1, rate: '64Kbit', ceil: '1234Kbit', quantum: 3 * 1514 });
    assert.deepEqual(await mapElements('sliver_mark'), [
      [1001, 1001],
      [1500, 1500],
    ]);
    assert.deepEqual(await mapElements('sliver_class'), [
      [1001, `1:${minor1001.toString(16)}`],
      [1500, `1:${minor1500.toString(16)}`],
    ]);
    assert.deepEqual(await mapElements('exempt_class'), [
      [1001, `1:${exemptMinor(minor1001).toString(16)}`],
      [1500, `1:${exemptMinor(minor1500).toString(16)}`],
    ]);
    assert.deepEqual(await limiter.list(), [1001, 1500]);
  });

  test('re-applying runs nothing, a restart reconciles from tc, and remove takes classes and rules away', { timeout: 20_000 }, async () => {
    const first = await start();
    // Odd rates too: the restarted limiter must recognise them in tc's rounded print.
    const wanted = new Map([
      [1001, limits(2_000_000)],
      [1500, limits(1_234_567, { net_min: 64_000, net_share: 3 })],
      [1600, limits(999_999, { net_min: 0, net2_min: 12, net2_max: 123_456_789_000, net_share: 500 })],
    ]);
    await Promise.all([...wanted].map(([uid, l]) => first.set(uid, l)));
    const before = { ...first.counts };
    await Promise.all([...wanted].map(([uid, l]) => first.set(uid, l)));
    assert.deepEqual(first.counts, before, 'the same limits again run no process');

    const restarted = await start();
    assert.equal(restarted.counts.tcBatches, 0, 'a restart on an intact tree changes no class');
    assert.deepEqual(await restarted.list(), [1001, 1500, 1600]);
    const afterStart = { ...restarted.counts };
    await Promise.all([...wanted].map(([uid, l]) => restarted.set(uid, l)));
    assert.deepEqual(restarted.counts, afterStart);

    await restarted.set(1001, limits(3_000_000));
    assert.equal(restarted.counts.tcBatches, afterStart.tcBatches + 1);
    assert.equal(restarted.counts.nftScripts, afterStart.nftScripts, 'a changed rate is a tc change only');
    assert.equal(parseClassShow(await showClasses(pair)).get(sliverMinor(1001, 1000))?.ceil, '3Mbit');

    await restarted.remove(1500);
    const shown = parseClassShow(await showClasses(pair));
    assert.ok(!shown.has(sliverMinor(1500, 1000)) && !shown.has(exemptMinor(sliverMinor(1500, 1000))));
    assert.deepEqual(
      (await mapElements('sliver_class')).map(([uid]) => uid),
      [1001, 1600],
    );
    assert.deepEqual(
      (await mapElements('exempt_class')).map(([uid]) => uid),
      [1001, 1600],
    );
    assert.deepEqual(
      (await mapElements('sliver_mark')).map(([uid]) => uid),
      [1001, 1600],
    );
    const settled = { ...restarted.counts };
    await restarted.remove(1500);
    assert.deepEqual(restarted.counts, settled, 'removing a uid that has no classes runs nothing');
    await Promise.all([restarted.remove(1001), restarted.remove(1600)]);
    assert.deepEqual(await restarted.list(), []);
  });

  test('concurrent set() calls are coalesced into one tc batch and one nft script', { timeout: 20_000 }, async () => {
    const limiter = await start();
    const before = { ...limiter.counts };
    const uids = Array.from({ length: 200 }, (_, i) => 2000 + i);
    await Promise.all(uids.map((uid) => limiter.set(uid, limits(1_000_000 + uid))));
    assert.deepEqual(limiter.counts, { ...before, tcBatches: before.tcBatches + 1, nftScripts: before.nftScripts + 1 });
    const shown = parseClassShow(await showClasses(pair));
    for (const uid of uids) assert.equal(shown.get(sliverMinor(uid, 1000))?.ceil, tcRateText(Math.floor((1_000_000 + uid) / 8)));
    // Calls made while a batch is in flight wait for the next one (group commit): two batches, not 200.
    const inFlight = Promise.all(uids.slice(0, 100).map((uid) => limiter.remove(uid)));
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([inFlight, ...uids.slice(100).map((uid) => limiter.remove(uid))]);
    assert.equal(limiter.counts.tcBatches, before.tcBatches + 3);
    assert.deepEqual(await limiter.list(), []);
  });

  test('bad input is refused with a clear error and runs nothing; removing what has no classes is a no-op', { timeout: 20_000 }, async () => {
    const limiter = await start();
    const before = { ...limiter.counts };
    await assert.rejects(limiter.set(1001, limits(1000, { net_min: 5000 })), /invalid bandwidth limits for uid 1001: net_min \(5000\) exceeds net_max \(1000\)/);
    await assert.rejects(limiter.set(1001, limits(-8)), /net_max must be a non-negative integer, got -8/);
    await assert.rejects(limiter.set(0, limits(1000)), /uid 0 cannot have bandwidth classes/);
    await limiter.remove(1);
    await limiter.remove(4242);
    assert.deepEqual(limiter.counts, before);
  });

  test('start replaces a foreign or misconfigured root qdisc and drops half-present class pairs', { timeout: 20_000 }, async () => {
    const tc = (...args: string[]) => runCommand('tc', ['-n', pair.sender, ...args], { timeoutMs: 10_000 });
    await tc('qdisc', 'replace', 'dev', pair.device, 'root', 'handle', '9:', 'htb');
    const limiter = await start();
    assert.match((await tc('qdisc', 'show', 'dev', pair.device)).stdout, /^qdisc htb 1: root .*default 0x2/m);
    await Promise.all([limiter.set(1001, limits(2_000_000)), limiter.set(1002, limits(2_000_000))]);
    await tc('class', 'del', 'dev', pair.device, 'classid', `1:${exemptMinor(sliverMinor(1002, 1000)).toString(16)}`);
    const restarted = await start();
    assert.deepEqual(await restarted.list(), [1001]);
    assert.ok(!parseClassShow(await showClasses(pair)).has(sliverMinor(1002, 1000)), "1002's remaining class is gone");
    assert.deepEqual(
      (await mapElements('sliver_class')).map(([uid]) => uid),
      [1001],
    );
    // Our handle with another default class cannot be changed in place (tc refuses): rebuilt empty.
    await tc('qdisc', 'del', 'dev', pair.device, 'root');
    await tc('qdisc', 'add', 'dev', pair.device, 'root', 'handle', '1:', 'htb', 'default', '7');
    const rebuilt = await start();
    assert.match((await tc('qdisc', 'show', 'dev', pair.device)).stdout, /^qdisc htb 1: root .*default 0x2/m);
    assert.deepEqual(await rebuilt.list(), []);
    assert.deepEqual(await mapElements('sliver_class'), []);
  });

  test('a tree broken behind its back fails the batch with the tc error, then heals', { timeout: 20_000 }, async () => {
    const limiter = await start();
    await limiter.set(1001, limits(2_000_000));
    await runCommand('tc', ['-n', pair.sender, 'qdisc', 'del', 'dev', pair.device, 'root'], { timeoutMs: 10_000 });
    await assert.rejects(limiter.set(1002, limits(2_000_000)), (e: unknown) => e instanceof CommandError && /tc -batch -/.test(e.message));
    // The failure made it re-read the kernel: the tree is back and the lost sliver is known as lost.
    assert.deepEqual(await limiter.list(), []);
    await Promise.all([limiter.set(1001, limits(2_000_000)), limiter.set(1002, limits(2_000_000))]);
    const shown = parseClassShow(await showClasses(pair));
    assert.ok(shown.has(0x1) && shown.has(sliverMinor(1001, 1000)) && shown.has(sliverMinor(1002, 1000)));
    await Promise.all([limiter.remove(1001), limiter.remove(1002)]);
  });

  test("PLC's node cap replaces the configured one in the kernel, sliver classes untouched; undefined goes back", { timeout: 20_000 }, async () => {
    const limiter = await start();
    await limiter.set(1001, limits(2_000_000));
    const minor = sliverMinor(1001, 1000);
    const before = parseClassShow(await showClasses(pair));
    await limiter.setNodeCap(20_000_000);
    const capped = parseClassShow(await showClasses(pair));
    assert.deepEqual(capped.get(0x1), { minor: 0x1, parentMinor: undefined, rate: '20Mbit', ceil: '20Mbit' });
    assert.equal(capped.get(0x2)?.ceil, '20Mbit');
    assert.deepEqual(capped.get(minor), before.get(minor));
    assert.deepEqual(capped.get(0x3), before.get(0x3), 'the exempt cap stays as configured');
    const batches = limiter.counts.tcBatches;
    await limiter.setNodeCap(20_000_000);
    assert.equal(limiter.counts.tcBatches, batches, 'the same cap again runs nothing');
    await limiter.setNodeCap(undefined);
    assert.deepEqual(parseClassShow(await showClasses(pair)).get(0x1), before.get(0x1));
    await assert.rejects(limiter.setNodeCap(3), /node cap must be an integer number of bit\/s >= 8, got 3/);
  });
});
