// slvctl's pure parts, called directly: JSONPath templates, the line diff, argument parsing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLoanArguments } from '../../../cli/commands.js';
import { unifiedDiff } from '../../../cli/diff.js';
import { jsonPath } from '../../../cli/jsonpath.js';
import { resolveKind } from '../../../cli/kinds.js';
import { table } from '../../../cli/output.js';
import { parseDuration, parseFor } from '../../../cli/wait.js';
import { UsageError } from '../../../resources/errors.js';

const list = {
  items: [
    { metadata: { name: 'a', labels: { 'nm.planet-lab.org/x': '1' } }, status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'AccountReady', status: 'False' }] } },
    { metadata: { name: 'b' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } },
  ],
};

test('jsonpath: fields, wildcards, indexes, quoted keys, filters, literals and range', { timeout: 5_000 }, () => {
  assert.equal(jsonPath('{.items[*].metadata.name}', list), 'a b');
  assert.equal(jsonPath('{.items[1].metadata.name}', list), 'b');
  assert.equal(jsonPath("{.items[0].metadata.labels['nm.planet-lab.org/x']}", list), '1');
  assert.equal(jsonPath('{.items[0].status.conditions[?(@.type=="Ready")].status}', list), 'True');
  assert.equal(jsonPath('{.items[0].status.conditions[?(@.type!="Ready")].type}', list), 'AccountReady');
  assert.equal(jsonPath('{range .items[*]}{.metadata.name}:{.status.conditions[0].status}{"\\n"}{end}', list), 'a:True\nb:False\n');
  assert.equal(jsonPath('name={.items[0].metadata}', list), `name=${JSON.stringify(list.items[0]!.metadata)}`);
  assert.equal(jsonPath('{.nothing.here}', list), '');
  for (const bad of ['{.items', '{range .items[*]}{.a}', '{end}', '{.items[x]}']) assert.throws(() => jsonPath(bad, list), UsageError, bad);
});

test('unifiedDiff: removals before additions, context, nothing for equal texts', { timeout: 5_000 }, () => {
  assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y'), '');
  assert.equal(unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'live', 'merged'), '--- live\n+++ merged\n a\n-b\n+B\n c\n');
  const long = Array.from({ length: 20 }, (_, i) => `line${i}`);
  const changed = [...long];
  changed[2] = 'two';
  changed[17] = 'seventeen';
  const text = unifiedDiff(`${long.join('\n')}\n`, `${changed.join('\n')}\n`, 'a', 'b');
  assert.match(text, /-line2\n\+two\n/);
  assert.match(text, /\n@@\n/);
  assert.ok(!text.includes('line10'), 'lines far from any change are left out');
  assert.equal(unifiedDiff('', 'new\n', 'a', 'b'), '--- a\n+++ b\n+new\n');
});

test('arguments: loans, durations, --for, resource types', { timeout: 5_000 }, () => {
  assert.deepEqual(parseLoanArguments(['bob:cpu_share:10', 'carol:net_max:0']), [
    ['bob', 'cpu_share', 10],
    ['carol', 'net_max', 0],
  ]);
  assert.throws(() => parseLoanArguments(['bob:cpu_share']), /expected TARGET:RESOURCE:AMOUNT/);
  assert.throws(() => parseLoanArguments(['bob:cpu_share:-1']), /whole AMOUNT/);
  assert.throws(() => parseLoanArguments(['bob:enabled:1']), /enabled cannot be lent/);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('3'), 3000);
  assert.throws(() => parseDuration('soon'), UsageError);
  const ready = parseFor('condition=Ready');
  assert.equal(ready.description, 'condition Ready=True');
  assert.ok(ready.predicate({ status: { conditions: [{ type: 'Ready', status: 'True' }] } } as never));
  assert.ok(!ready.predicate(undefined));
  assert.ok(parseFor('delete').predicate(undefined));
  assert.throws(() => parseFor('ready'), /invalid --for=ready/);
  assert.equal(resolveKind('sl'), 'Sliver');
  assert.equal(resolveKind('Loans'), 'Loan');
  assert.throws(() => resolveKind('pod'), /unknown resource type "pod": expected one of sliver \(sl\), delegate \(dg\), loan \(ln\), event \(ev\)/);
});

test('tables align columns by their visible width, colour codes aside', { timeout: 5_000 }, () => {
  const green = (s: string) => `\u001b[32m${s}\u001b[0m`;
  assert.equal(table(['NAME', 'READY', 'AGE'], [['alpha', green('True'), '5s'], ['b', 'False', '10m']]), 'NAME    READY   AGE\nalpha   \u001b[32mTrue\u001b[0m    5s\nb       False   10m\n');
});
