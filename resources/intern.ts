// One copy of each repeated string among objects kept in memory (the informer's cache). JSON.parse
// gives every object its own copy of each string value longer than V8 internalizes (10 characters):
// with 10,000 slivers and 50,000 loans the cache held 60,000 copies of the apiVersion, one per
// object of each timestamp, condition type, reason and message, some 12 MB saying the same thing.

/** Longer values (ssh keys, init scripts) are rarely shared and would only fill the table. */
const MAX_INTERNED_LENGTH = 200;
/** V8 already keeps one copy of shorter values parsed from JSON. */
const MIN_INTERNED_LENGTH = 11;
/** Fields that no two objects share: looking them up would only fill the table. */
const UNIQUE_FIELDS = new Set(['uid', 'name', 'resourceVersion']);

/**
 * Two generations of at most `limit` values each: when the recent table is full it becomes the
 * older one and the oldest is dropped; a value found in the older table moves to the recent one,
 * so the values in use (the apiVersion, condition reasons) keep one copy across turnovers. Most
 * values looked up never repeat (each loan's message names its target), and a table as large as
 * the cache kept a copy of each: 1.8 MB at 50,000 Loans.
 */
export class StringInterner {
  private recent = new Map<string, string>();
  private older = new Map<string, string>();

  constructor(private readonly limit = 8192) {}

  get size(): number {
    return this.recent.size + this.older.size;
  }

  intern(value: string): string {
    if (value.length < MIN_INTERNED_LENGTH || value.length > MAX_INTERNED_LENGTH) return value;
    const known = this.recent.get(value);
    if (known !== undefined) return known;
    const kept = this.older.get(value) ?? value;
    if (this.recent.size >= this.limit) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(value, kept);
    return kept;
  }

  /** Replace, in place, every string held by `value` (a parsed JSON document) with the table's copy. */
  internAll(value: unknown): void {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'string') value[i] = this.intern(item);
        else if (typeof item === 'object' && item !== null) this.internAll(item);
      }
    } else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      for (const key in record) {
        const item = record[key];
        if (typeof item === 'string') {
          if (!UNIQUE_FIELDS.has(key)) record[key] = this.intern(item);
        } else if (typeof item === 'object' && item !== null) this.internAll(item);
      }
    }
  }
}
