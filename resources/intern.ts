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

export class StringInterner {
  private table = new Map<string, string>();

  /** `limit`: distinct values kept; past it the table starts again (bounded memory, fewer shared copies). */
  constructor(private readonly limit = 100_000) {}

  get size(): number {
    return this.table.size;
  }

  intern(value: string): string {
    if (value.length < MIN_INTERNED_LENGTH || value.length > MAX_INTERNED_LENGTH) return value;
    const known = this.table.get(value);
    if (known !== undefined) return known;
    if (this.table.size >= this.limit) this.table = new Map();
    this.table.set(value, value);
    return value;
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
