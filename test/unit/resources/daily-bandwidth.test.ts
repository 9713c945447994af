import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capRate, dailyVolumes, DEFAULT_EXEMPT_MAX_KBYTE, DEFAULT_MAX_KBYTE, nextDailyBandwidth, nextReset, utcDay, withDailyCaps } from '../../../resources/daily-bandwidth.js';
import { DEFAULT_RSPEC } from '../../../resources/rspec.js';

const NOON = Date.UTC(2026, 10, 30, 12, 0, 0);
const MIDNIGHT = Date.UTC(2026, 11, 1);
const rspec = { ...DEFAULT_RSPEC, net_min: 16_000, net_max: 10_000_000, net2_min: 8, net2_max: 20_000_000 };

test('daily volumes come from the kbyte tags (1024 bytes), the threshold defaulting to 80 % of the maximum', () => {
  assert.deepEqual(dailyVolumes({ net_max_kbyte: '1000', net_thresh_kbyte: '500', net_i2_max_kbyte: '3000' }), {
    normal: { thresholdBytes: 500 * 1024, maxBytes: 1000 * 1024 },
    exempt: { thresholdBytes: 2400 * 1024, maxBytes: 3000 * 1024 },
  });
  const defaults = dailyVolumes({ net_max_kbyte: 'lots', net_i2_thresh_kbyte: '-5' });
  assert.equal(defaults.normal.maxBytes, DEFAULT_MAX_KBYTE * 1024, 'a tag that does not parse takes the default');
  assert.equal(defaults.normal.thresholdBytes, Math.trunc(DEFAULT_MAX_KBYTE * 0.8) * 1024);
  assert.equal(defaults.exempt.thresholdBytes, Math.trunc(DEFAULT_EXEMPT_MAX_KBYTE * 0.8) * 1024, 'a negative threshold takes the default');
});

test('the day is the UTC day and resets at the next UTC midnight', () => {
  assert.equal(utcDay(NOON), '2026-11-30');
  assert.equal(nextReset(NOON), MIDNIGHT);
  assert.equal(nextReset(MIDNIGHT), MIDNIGHT + 86_400_000, 'at midnight the next reset is a day away');
});

test('the cap rate spreads what is left of the volume over the rest of the day, between min and max', () => {
  const volume = { thresholdBytes: 0, maxBytes: 43_200 * 1000 }; // 1000 bytes/s for the 12 h left
  assert.equal(capRate(volume, 0, NOON, 8, 1e9), 8000);
  assert.equal(capRate(volume, 21_600 * 1000, NOON, 8, 1e9), 4000);
  assert.equal(capRate(volume, volume.maxBytes * 2, NOON, 16_000, 1e9), 16_000, 'past the maximum: the guaranteed minimum');
  assert.equal(capRate(volume, 0, NOON, 8, 5000), 5000, 'never above the sliver maximum');
});

test('counting: the first reading starts at 0, later readings add what the counters grew, a new day starts again', () => {
  const volumes = dailyVolumes({ net_max_kbyte: '1000000', net_thresh_kbyte: '1000' });
  const first = nextDailyBandwidth(undefined, { bytes: 5_000_000, exemptBytes: 7 }, volumes, rspec, NOON);
  assert.deepEqual(first, { day: '2026-11-30', sentBytes: 0, sentExemptBytes: 0, counters: { bytes: 5_000_000, exemptBytes: 7 }, resetAt: '2026-12-01T00:00:00Z' });
  const later = nextDailyBandwidth(first, { bytes: 5_500_000, exemptBytes: 10 }, volumes, rspec, NOON + 60_000);
  assert.equal(later.sentBytes, 500_000);
  assert.equal(later.sentExemptBytes, 3);
  assert.equal(later.netMaxCap, undefined, 'under the threshold (1,024,000 bytes)');
  const tomorrow = nextDailyBandwidth(later, { bytes: 9_000_000, exemptBytes: 10 }, volumes, rspec, MIDNIGHT);
  assert.deepEqual(tomorrow, { day: '2026-12-01', sentBytes: 0, sentExemptBytes: 0, counters: { bytes: 9_000_000, exemptBytes: 10 }, resetAt: '2026-12-02T00:00:00Z' });
});

test('a counter below the last reading is a class tc made anew: what it shows now was sent since', () => {
  const volumes = dailyVolumes({});
  const before = nextDailyBandwidth(undefined, { bytes: 8_000_000, exemptBytes: 0 }, volumes, rspec, NOON);
  const grown = nextDailyBandwidth(before, { bytes: 9_000_000, exemptBytes: 0 }, volumes, rspec, NOON + 1000);
  const recreated = nextDailyBandwidth(grown, { bytes: 300, exemptBytes: 0 }, volumes, rspec, NOON + 2000);
  assert.equal(recreated.sentBytes, 1_000_300);
  assert.deepEqual(recreated.counters, { bytes: 300, exemptBytes: 0 });
});

test('past the threshold the class is capped, and the cap holds until the reset', () => {
  const volumes = dailyVolumes({ net_max_kbyte: '4218750', net_thresh_kbyte: '1000', net_i2_thresh_kbyte: '2000' });
  const start = nextDailyBandwidth(undefined, { bytes: 0, exemptBytes: 0 }, volumes, rspec, NOON);
  const over = nextDailyBandwidth(start, { bytes: 1_024_000, exemptBytes: 5 }, volumes, rspec, NOON);
  const expected = Math.floor(((4_218_750 - 1000) * 1024 * 8) / 43_200); // about 800 kbit/s
  assert.equal(over.netMaxCap, expected);
  assert.equal(over.net2MaxCap, undefined, 'the exempt class has its own threshold');
  const hourLater = nextDailyBandwidth(over, { bytes: 2_000_000, exemptBytes: 5 }, volumes, rspec, NOON + 3_600_000);
  assert.equal(hourLater.netMaxCap, expected, 'the rate does not creep during the day');
  const exemptOver = nextDailyBandwidth(hourLater, { bytes: 2_000_000, exemptBytes: 2000 * 1024 + 5 }, volumes, rspec, NOON + 3_600_000);
  assert.ok(exemptOver.net2MaxCap !== undefined && exemptOver.net2MaxCap <= rspec.net2_max);
  const reset = nextDailyBandwidth(exemptOver, { bytes: 2_000_000, exemptBytes: 0 }, volumes, rspec, MIDNIGHT);
  assert.equal(reset.netMaxCap, undefined);
  assert.equal(reset.net2MaxCap, undefined);
});

test('caps lower the maximum of the effective rspec, never below its minimum', () => {
  const daily = { day: '2026-11-30', sentBytes: 0, sentExemptBytes: 0, counters: { bytes: 0, exemptBytes: 0 }, resetAt: 'x' };
  assert.equal(withDailyCaps(rspec, daily), rspec, 'no cap: the same rspec');
  assert.deepEqual(withDailyCaps(rspec, { ...daily, netMaxCap: 1_000_000 }), { ...rspec, net_max: 1_000_000 });
  assert.deepEqual(withDailyCaps(rspec, { ...daily, netMaxCap: 8, net2MaxCap: 1e12 }), { ...rspec, net_max: rspec.net_min }, 'a loan may have raised the minimum since');
});
