// Label selectors, Kubernetes equality-based syntax: `a=b`, `a==b`, `a!=b`, `a` (exists), `!a`,
// comma-separated (all must hold). Pure.
import { BadRequestError } from './errors.js';

export type Requirement = { key: string; op: 'eq' | 'neq'; value: string } | { key: string; op: 'exists' | 'notexists' };

const LABEL_PART = /^[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?)?$/;

export function parseSelector(selector: string): Requirement[] {
  const requirements: Requirement[] = [];
  for (const rawTerm of selector.split(',')) {
    const term = rawTerm.trim();
    if (!term) continue;
    const match = /^(!?)\s*([^!=\s]+)\s*(?:(==|=|!=)\s*(\S*))?$/.exec(term);
    const key = match?.[2];
    if (!match || !key || !LABEL_PART.test(key) || (match[1] && match[3])) {
      throw new BadRequestError(`invalid label selector term ${JSON.stringify(term)}: expected key, !key, key=value or key!=value`);
    }
    const value = match[4] ?? '';
    if (match[3] && !LABEL_VALUE.test(value)) throw new BadRequestError(`invalid label value ${JSON.stringify(value)} in selector`);
    if (match[3]) requirements.push({ key, op: match[3] === '!=' ? 'neq' : 'eq', value });
    else requirements.push({ key, op: match[1] ? 'notexists' : 'exists' });
  }
  return requirements;
}

export function matchesSelector(requirements: readonly Requirement[], labels: Record<string, string> | undefined): boolean {
  return requirements.every((r) => {
    // Own properties only: `constructor` or `toString` is not a label every object has.
    const actual = labels !== undefined && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
    switch (r.op) {
      case 'eq':
        return actual === r.value;
      case 'neq':
        return actual !== r.value;
      case 'exists':
        return actual !== undefined;
      case 'notexists':
        return actual === undefined;
    }
  });
}
