// Structural equality of JSON values (key order ignored): how the store tells a no-op write.
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const isArray = Array.isArray(a);
  if (isArray !== Array.isArray(b)) return false;
  if (isArray) {
    const left = a as unknown[];
    const right = b as unknown[];
    if (left.length !== right.length) return false;
    for (let i = 0; i < left.length; i++) if (!jsonEqual(left[i], right[i])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  // The defined keys are counted, not listed: every status write compares the whole status, and
  // the key arrays were 4 MB of the garbage a restart with 10,000 slivers promoted.
  let unmatched = 0;
  for (const key in left) {
    if (!Object.hasOwn(left, key) || left[key] === undefined) continue;
    if (!Object.hasOwn(right, key) || !jsonEqual(left[key], right[key])) return false;
    unmatched += 1;
  }
  for (const key in right) if (Object.hasOwn(right, key) && right[key] !== undefined) unmatched -= 1;
  return unmatched === 0;
}
