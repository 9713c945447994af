// Pure rules of the bwmon duty (the old node manager's bwmon): how many bytes a sliver sent today
// from its HTB class counters, the daily thresholds from its PLC tags, and the cap rate once a
// threshold is passed. A day is a UTC day; at its end the counts restart and the caps go.
import type { DailyBandwidth, RSpec } from '../schemas/types.js';
import { parsePy3Int } from './plc-tags.js';
import { kubernetesTimestamp } from './time.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** bwmon's kilobyte. */
const KBYTE = 1024;
/** tc's smallest rate. */
const MIN_RATE = 8;

/** PLC's defaults when a slice has no tag: 1 Mbit/s and 3 Mbit/s averaged over a day, as bwmon's. */
export const DEFAULT_MAX_KBYTE = 10_546_875;
export const DEFAULT_EXEMPT_MAX_KBYTE = 31_640_625;
/** The threshold is this part of the daily maximum unless PLC sets it. */
const DEFAULT_THRESHOLD_PART = 0.8;

/** One traffic class's daily volume: past `thresholdBytes` the rate is capped so that `maxBytes` lasts the day. */
export interface DailyVolume {
  thresholdBytes: number;
  maxBytes: number;
}

export interface DailyVolumes {
  normal: DailyVolume;
  exempt: DailyVolume;
}

function kbytesTag(attributes: Record<string, string>, tag: string): number | undefined {
  const raw = attributes[tag];
  const value = raw === undefined ? undefined : parsePy3Int(raw);
  return value !== undefined && value >= 0 ? value : undefined;
}

function volume(attributes: Record<string, string>, maxTag: string, thresholdTag: string, defaultMaxKbyte: number): DailyVolume {
  const maxKbyte = kbytesTag(attributes, maxTag) ?? defaultMaxKbyte;
  const thresholdKbyte = kbytesTag(attributes, thresholdTag) ?? Math.trunc(maxKbyte * DEFAULT_THRESHOLD_PART);
  return { thresholdBytes: thresholdKbyte * KBYTE, maxBytes: maxKbyte * KBYTE };
}

/** The daily volumes from a sliver's tags (`net_max_kbyte`, `net_thresh_kbyte`, `net_i2_*`); a bad or absent tag takes the default. */
export function dailyVolumes(attributes: Record<string, string>): DailyVolumes {
  return {
    normal: volume(attributes, 'net_max_kbyte', 'net_thresh_kbyte', DEFAULT_MAX_KBYTE),
    exempt: volume(attributes, 'net_i2_max_kbyte', 'net_i2_thresh_kbyte', DEFAULT_EXEMPT_MAX_KBYTE),
  };
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/** The next daily reset after `nowMs`: the following UTC midnight. */
export function nextReset(nowMs: number): number {
  return (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS;
}

/** Bytes a class sent between two readings; a counter below the last one means tc made the class anew (counting from 0). */
function sentSince(last: number, reading: number): number {
  return reading >= last ? reading - last : reading;
}

/**
 * The rate that spreads what is left of `maxBytes` over the rest of the day, in bit/s: never below
 * `floor` (the sliver's guaranteed minimum) nor above `ceiling` (its own maximum).
 */
export function capRate(volume: DailyVolume, sentBytes: number, nowMs: number, floor: number, ceiling: number): number {
  const secondsLeft = Math.max(1, (nextReset(nowMs) - nowMs) / 1000);
  const rate = Math.floor((Math.max(0, volume.maxBytes - sentBytes) * 8) / secondsLeft);
  return Math.min(ceiling, Math.max(floor, MIN_RATE, rate));
}

export interface CounterReading {
  bytes: number;
  exemptBytes: number;
}

/**
 * Today's count after a new reading of the class counters. The first reading, and the first of a
 * new day, start the count at 0 from where the counters stand; a cap, once set, holds until the
 * reset (bwmon's mail promised "until" a time, so the rate does not creep back during the day).
 * `rspec` is the sliver's rspec without caps: the cap rate lies between its min and max.
 */
export function nextDailyBandwidth(previous: DailyBandwidth | undefined, reading: CounterReading, volumes: DailyVolumes, rspec: RSpec, nowMs: number): DailyBandwidth {
  const day = utcDay(nowMs);
  const resetAt = kubernetesTimestamp(nextReset(nowMs));
  if (!previous || previous.day !== day) return { day, sentBytes: 0, sentExemptBytes: 0, counters: { ...reading }, resetAt };
  const sentBytes = previous.sentBytes + sentSince(previous.counters.bytes, reading.bytes);
  const sentExemptBytes = previous.sentExemptBytes + sentSince(previous.counters.exemptBytes, reading.exemptBytes);
  const netMaxCap = previous.netMaxCap ?? (sentBytes >= volumes.normal.thresholdBytes ? capRate(volumes.normal, sentBytes, nowMs, rspec.net_min, rspec.net_max) : undefined);
  const net2MaxCap = previous.net2MaxCap ?? (sentExemptBytes >= volumes.exempt.thresholdBytes ? capRate(volumes.exempt, sentExemptBytes, nowMs, rspec.net2_min, rspec.net2_max) : undefined);
  return {
    day,
    sentBytes,
    sentExemptBytes,
    counters: { ...reading },
    ...(netMaxCap !== undefined ? { netMaxCap } : {}),
    ...(net2MaxCap !== undefined ? { net2MaxCap } : {}),
    resetAt,
  };
}

/** The rspec with today's caps: a cap lowers the maximum, never below the guaranteed minimum. */
export function withDailyCaps(rspec: RSpec, daily: DailyBandwidth | undefined): RSpec {
  if (daily?.netMaxCap === undefined && daily?.net2MaxCap === undefined) return rspec;
  const capped = { ...rspec };
  if (daily.netMaxCap !== undefined) capped.net_max = Math.max(rspec.net_min, Math.min(rspec.net_max, daily.netMaxCap));
  if (daily.net2MaxCap !== undefined) capped.net2_max = Math.max(rspec.net2_min, Math.min(rspec.net2_max, daily.net2MaxCap));
  return capped;
}
