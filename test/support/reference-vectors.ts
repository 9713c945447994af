// The original's test vectors (test/fixtures/loan_vectors.json), read so that floats stay
// floats: JSON.parse turns 1.0 into 1, but SetLoans must refuse a float amount the original refused.
import { readFileSync } from 'node:fs';

/** A number written with a fraction in the vectors (never an integer, whatever its value). */
export class JsonFloat {
  constructor(readonly text: string) {}
}

/** JSON.parse, except that numbers written with a fraction become JsonFloat. */
export function parseKeepingFloats(text: string): unknown {
  const marked = text.replace(/(?<=[[,:]\s*)(-?\d+\.\d+)(?=\s*[\],}])/g, '{"$float":"$1"}');
  return JSON.parse(marked, (_key, value: unknown) => (value && typeof value === 'object' && '$float' in value ? new JsonFloat(String(value.$float)) : value));
}

export const LOAN_VECTORS_URL = new URL('../fixtures/loan_vectors.json', import.meta.url);
export const GETSLIVERS_SAMPLE_URL = new URL('../fixtures/getslivers-sample.json', import.meta.url);
/** Today's GetSlivers answer (PLCAPI 5's documented return shape, invented values). */
export const GETSLIVERS_TODAY_SAMPLE_URL = new URL('../fixtures/getslivers-today-sample.json', import.meta.url);

export function loadLoanVectors(): unknown {
  return parseKeepingFloats(readFileSync(LOAN_VECTORS_URL, 'utf8'));
}
