// Today's slice tags (PLCAPI 5, the LXC-era node manager) mapped to what slv enforces. Pure.
//
// Today's node manager reads each rspec tag with Python 3's int() or float() and falls back to
// its default when that fails; bwmon then truncates the rates with int() and multiplies by 1000.
// slv does the same, into its own rspec keys and units (docs/plc.md has the table):
//   enabled, cpu_share, net_share, disk_max   -> the same key, unchanged
//   cpu_pct (percent of a CPU reserved)       -> cpu_min in thousandths of a CPU (x 10)
//   net_min_rate, net_max_rate (kbit/s)       -> net_min, net_max in bit/s (x 1000)
//   net_i2_min_rate, net_i2_max_rate (kbit/s) -> net2_min, net2_max in bit/s (x 1000)
//   cpu_cores (`N` or `Nb`)                   -> spec.cpuCores {count: N, bestEffort: has b}
// A tag that is absent or does not parse leaves slv's default, as with the 2006 keys.
import { DEFAULT_RSPEC } from './rspec.js';
import type { CpuCores, RSpec, RSpecKey } from '../schemas/types.js';

// Python 3's str.isspace(), which int() and float() strip around the number.
const PY3_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const DIGITS = '[0-9](?:_?[0-9])*';
const PY3_INT = new RegExp(`^[${PY3_WHITESPACE}]*([+-]?${DIGITS})[${PY3_WHITESPACE}]*$`);
const PY3_FLOAT = new RegExp(`^[${PY3_WHITESPACE}]*([+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?)[${PY3_WHITESPACE}]*$`);

/**
 * Python 3 `int(str)`: surrounding whitespace, a sign, `_` between digits. Undefined where Python
 * raises ValueError, and beyond 2^53 (a JavaScript number cannot hold it exactly).
 */
export function parsePy3Int(text: string): number | undefined {
  const match = PY3_INT.exec(text);
  if (!match) return undefined;
  const value = Number((match[1] as string).replace(/_/g, ''));
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Python 3 `float(str)` for finite values (inf and nan would make bwmon's int() fail). */
export function parsePy3Float(text: string): number | undefined {
  const match = PY3_FLOAT.exec(text);
  if (!match) return undefined;
  const value = Number((match[1] as string).replace(/_/g, ''));
  return Number.isFinite(value) ? value : undefined;
}

type Conversion = { key: RSpecKey; parse: (text: string) => number | undefined };

const unchanged = (key: RSpecKey): Conversion => ({ key, parse: parsePy3Int });
const scaled = (key: RSpecKey, parse: (text: string) => number | undefined, factor: number): Conversion => ({
  key,
  parse: (text) => {
    const value = parse(text);
    if (value === undefined) return undefined;
    const result = Math.trunc(value) * factor;
    return Number.isSafeInteger(result) ? result : undefined;
  },
});

/** Today's rspec tags, each with the slv rspec key it sets and how. */
export const TODAY_RSPEC_TAGS: Readonly<Record<string, Conversion>> = Object.freeze({
  enabled: unchanged('enabled'),
  cpu_share: unchanged('cpu_share'),
  net_share: unchanged('net_share'),
  disk_max: unchanged('disk_max'),
  cpu_pct: scaled('cpu_min', parsePy3Int, 10),
  net_min_rate: scaled('net_min', parsePy3Float, 1000),
  net_max_rate: scaled('net_max', parsePy3Float, 1000),
  net_i2_min_rate: scaled('net2_min', parsePy3Float, 1000),
  net_i2_max_rate: scaled('net2_max', parsePy3Float, 1000),
});

/** An rspec from today's tags: each mapped tag's value, or slv's default. */
export function rspecFromTags(tags: Record<string, string>): RSpec {
  const result = { ...DEFAULT_RSPEC };
  for (const [tag, { key, parse }] of Object.entries(TODAY_RSPEC_TAGS)) {
    const raw = tags[tag];
    const parsed = raw === undefined ? undefined : parse(raw);
    if (parsed !== undefined) result[key] = parsed;
  }
  return result;
}

/** `cpu_cores` as today's core scheduler reads it: a count, `b` for best effort; a bad count is 0. */
export function cpuCoresFromTag(text: string): CpuCores {
  const bestEffort = text.endsWith('b');
  const count = parsePy3Int(bestEffort ? text.slice(0, -1) : text);
  return { count: count !== undefined && count > 0 ? count : 0, bestEffort };
}
