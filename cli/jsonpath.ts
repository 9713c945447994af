// The kubectl JSONPath template subset slvctl supports for `-o jsonpath=...`: text, `{.a.b}`,
// `{.items[*].metadata.name}`, `{.list[0]}`, `{['key.with.dots']}`, filters `[?(@.type=="Ready")]`
// and `[?(@.status.granted==true)]` (== and != against a string, number, true, false or null),
// string literals `{"\n"}`, and `{range EXPR}...{end}`. Pure.
import { UsageError } from '../resources/errors.js';

type Step = { key: string } | { index: number } | { all: true } | { filter: { path: Step[]; op: '==' | '!='; value: string } };
type Node = { text: string } | { path: Step[] } | { range: Step[]; body: Node[] };

function syntax(template: string, message: string): UsageError {
  return new UsageError(`invalid jsonpath template ${JSON.stringify(template)}: ${message}`);
}

function parsePath(expression: string, template: string): Step[] {
  const steps: Step[] = [];
  let rest = expression.trim().replace(/^[$@]/, '');
  while (rest) {
    let match: RegExpExecArray | null;
    if ((match = /^\.([A-Za-z0-9_-]+)/.exec(rest))) steps.push({ key: match[1]! });
    else if ((match = /^\[(\d+)\]/.exec(rest))) steps.push({ index: Number(match[1]) });
    else if ((match = /^(\[\*\]|\.\*)/.exec(rest))) steps.push({ all: true });
    else if ((match = /^\[['"]([^'"]+)['"]\]/.exec(rest))) steps.push({ key: match[1]! });
    else if ((match = /^\[\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(true|false|null|-?\d+(?:\.\d+)?))\s*\)\]/.exec(rest))) {
      // Values compare as text, so `==true` matches the boolean true and `==5` the number 5.
      steps.push({ filter: { path: parsePath(match[1]!, template), op: match[2] as '==' | '!=', value: match[3] ?? match[4] ?? match[5]! } });
    } else if (rest === '.') break;
    else throw syntax(template, `unexpected ${JSON.stringify(rest)}`);
    rest = rest.slice(match[0].length);
  }
  return steps;
}

function evaluate(steps: readonly Step[], data: unknown): unknown[] {
  let current = [data];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      const children = Array.isArray(value) ? value : Object.values(value);
      if ('key' in step) {
        if (!Array.isArray(value) && step.key in value) next.push((value as Record<string, unknown>)[step.key]);
      } else if ('index' in step) {
        if (Array.isArray(value) && step.index < value.length) next.push(value[step.index]);
      } else if ('all' in step) next.push(...children);
      else {
        const { path, op, value: wanted } = step.filter;
        for (const child of children) {
          const found = evaluate(path, child).map(String);
          if (op === '==' ? found.includes(wanted) : !found.includes(wanted)) next.push(child);
        }
      }
    }
    current = next;
  }
  return current;
}

/** Split the template into text and `{...}` expressions (braces inside quotes do not count). */
function tokenize(template: string): Array<{ text: string } | { expression: string }> {
  const tokens: Array<{ text: string } | { expression: string }> = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      tokens.push({ text: template.slice(i) });
      break;
    }
    if (open > i) tokens.push({ text: template.slice(i, open) });
    let j = open + 1;
    let quote: string | undefined;
    for (; j < template.length; j++) {
      const c = template[j]!;
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '}') break;
    }
    if (j >= template.length) throw syntax(template, 'unclosed "{"');
    tokens.push({ expression: template.slice(open + 1, j).trim() });
    i = j + 1;
  }
  return tokens;
}

function parse(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  for (const token of tokenize(template)) {
    const into = stack[stack.length - 1]!;
    if ('text' in token) into.push({ text: token.text });
    else if (/^".*"$|^'.*'$/s.test(token.expression)) {
      into.push({
        text: token.expression
          .slice(1, -1)
          .replace(/\\n/g, '\n')
          .replace(/\\t/g, '\t')
          .replace(/\\(["'\\])/g, '$1'),
      });
    } else if (token.expression.startsWith('range ')) {
      const node: Node = { range: parsePath(token.expression.slice(6), template), body: [] };
      into.push(node);
      stack.push(node.body);
    } else if (token.expression === 'end') {
      if (stack.length === 1) throw syntax(template, '{end} without {range}');
      stack.pop();
    } else into.push({ path: parsePath(token.expression, template) });
  }
  if (stack.length !== 1) throw syntax(template, '{range} without {end}');
  return root;
}

function render(nodes: readonly Node[], data: unknown): string {
  return nodes
    .map((node) => {
      if ('text' in node) return node.text;
      if ('path' in node)
        return evaluate(node.path, data)
          .map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)))
          .join(' ');
      return evaluate(node.range, data)
        .map((item) => render(node.body, item))
        .join('');
    })
    .join('');
}

/** The values one expression (`.a.b` or `{.a.b}`) selects in `data`: for --sort-by and custom columns. */
export function jsonPathValues(expression: string, data: unknown): unknown[] {
  const inner = expression.trim().replace(/^\{(.*)\}$/s, '$1');
  return evaluate(parsePath(inner, expression), data);
}

/** Render a kubectl-style JSONPath template against `data`; a syntax error is a UsageError. */
export function jsonPath(template: string, data: unknown): string {
  return render(parse(template), data);
}
