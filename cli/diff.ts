// A line diff for `slvctl diff`: unified-style, three lines of context around each change. Pure.

type Line = { op: ' ' | '-' | '+'; text: string };

/** The edit script from `a` to `b` by longest common subsequence (objects are small). */
function editScript(a: string[], b: string[]): Line[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const script: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      script.push({ op: ' ', text: a[i++]! });
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) script.push({ op: '-', text: a[i++]! });
    else script.push({ op: '+', text: b[j++]! });
  }
  return script;
}

const CONTEXT = 3;

/** The diff of two texts with `---`/`+++` labels, or '' when they are the same. */
export function unifiedDiff(before: string, after: string, beforeLabel: string, afterLabel: string): string {
  if (before === after) return '';
  const split = (text: string) => (text ? text.replace(/\n$/, '').split('\n') : []);
  const script = editScript(split(before), split(after));
  const near = script.map((_, k) => script.slice(Math.max(0, k - CONTEXT), k + CONTEXT + 1).some((line) => line.op !== ' '));
  const out = [`--- ${beforeLabel}`, `+++ ${afterLabel}`];
  const lastNear = near.lastIndexOf(true);
  script.forEach((line, k) => {
    if (near[k]) out.push(`${line.op}${line.text}`);
    else if (near[k - 1] && k < lastNear) out.push('@@');
  });
  return `${out.join('\n')}\n`;
}
