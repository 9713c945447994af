// slvctl's pure parts, called directly: JSONPath templates, the line diff, argument parsing,
// table columns, sorting and where slvctl looks for slvd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLoanArguments } from '../../../cli/commands.js';
import { unifiedDiff } from '../../../cli/diff.js';
import { jsonPath } from '../../../cli/jsonpath.js';
import { serverSocket, DEFAULT_API_SOCKETS, CHECKOUT_API_SOCKET } from '../../../cli/context.js';
import { sortObjects } from '../../../cli/get.js';
import { parseTargets, resolveKind } from '../../../cli/kinds.js';
import { AlignedTable, palette, parseOutput, table, tableOf } from '../../../cli/output.js';
import { parseMapChanges } from '../../../cli/verbs.js';
import type { Loan, SlvEvent } from '../../../schemas/types.js';
import { parseDuration, parseFor } from '../../../cli/wait.js';
import { UsageError } from '../../../resources/errors.js';

const list = {
  items: [
    {
      metadata: { name: 'a', labels: { 'nm.planet-lab.org/x': '1' } },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'AccountReady', status: 'False' },
        ],
      },
    },
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
  const loans = {
    items: [
      { n: 'a', status: { granted: true, amount: 5 } },
      { n: 'b', status: { granted: false, amount: 7 } },
    ],
  };
  assert.equal(jsonPath('{.items[?(@.status.granted==true)].n}', loans), 'a', 'filters on booleans');
  assert.equal(jsonPath('{.items[?(@.status.granted!=true)].n}', loans), 'b');
  assert.equal(jsonPath('{.items[?(@.status.amount==7)].n}', loans), 'b', 'and numbers');
  assert.equal(jsonPath("{.items[?(@.n=='a')].status.amount}", loans), '5');
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
  assert.equal(
    table(
      ['NAME', 'READY', 'AGE'],
      [
        ['alpha', green('True'), '5s'],
        ['b', 'False', '10m'],
      ],
    ),
    'NAME    READY   AGE\nalpha   \u001b[32mTrue\u001b[0m    5s\nb       False   10m\n',
  );
});

test('get arguments: one type, names, several types, all, TYPE/NAME', { timeout: 5_000 }, () => {
  assert.deepEqual(parseTargets(['sl']), [{ kind: 'Sliver', names: [] }]);
  assert.deepEqual(parseTargets(['sl', 'a', 'b', 'a']), [{ kind: 'Sliver', names: ['a', 'b'] }]);
  assert.deepEqual(parseTargets(['sl,dg']), [
    { kind: 'Sliver', names: [] },
    { kind: 'Delegate', names: [] },
  ]);
  assert.deepEqual(
    parseTargets(['all']).map((t) => t.kind),
    ['Sliver', 'Delegate', 'Loan'],
  );
  assert.deepEqual(parseTargets(['sliver/a', 'dg/b', 'sl/c']), [
    { kind: 'Sliver', names: ['a', 'c'] },
    { kind: 'Delegate', names: ['b'] },
  ]);
  assert.throws(() => parseTargets(['sliver/a', 'b']), /all must be/);
  assert.throws(() => parseTargets(['sl,dg', 'a']), /names cannot follow several resource types/);
  assert.throws(() => parseTargets(['sl,pods']), /unknown resource type "pods"/);
});

const loan = (name: string, amount: number, labels?: Record<string, string>): Loan => ({
  apiVersion: 'nm.planet-lab.org/v1',
  kind: 'Loan',
  metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z', ...(labels ? { labels } : {}) },
  spec: { from: 'a', to: 'b', resource: 'cpu_share', amount, order: 0 },
  status: { granted: amount < 10 },
});

test('tables: custom columns, label columns, LABELS, kind-qualified names, no colour when off', { timeout: 5_000 }, () => {
  const options = { colour: palette(false), nowMs: Date.parse('2026-01-01T00:01:00Z') };
  const custom = tableOf('Loan', [loan('a.0', 5), loan('a.1', 20)], { ...options, format: parseOutput('custom-columns=NAME:.metadata.name,GRANTED:.status.granted,MISSING:.status.reason') });
  assert.deepEqual(custom, {
    header: ['NAME', 'GRANTED', 'MISSING'],
    rows: [
      ['a.0', 'true', '<none>'],
      ['a.1', 'false', '<none>'],
    ],
  });
  const labelled = tableOf('Loan', [loan('a.0', 5, { team: 'red', tier: '1' })], { ...options, format: parseOutput(undefined), labelColumns: ['team', 'zone'], showLabels: true, withKind: true });
  assert.deepEqual(labelled.header, ['NAME', 'FROM', 'TO', 'RESOURCE', 'AMOUNT', 'GRANTED', 'AGE', 'TEAM', 'ZONE', 'LABELS']);
  assert.deepEqual(labelled.rows[0], ['loan/a.0', 'a', 'b', 'cpu_share', '5', 'true', '60s', 'red', '', 'team=red,tier=1']);
  assert.throws(() => parseOutput('custom-columns=NAME'), /expected HEADER:JSONPATH/);
  assert.throws(() => parseOutput('custom-columns=NAME:.items[x]'), /invalid jsonpath/);
});

test('an aligned table printed in parts keeps its columns under the header', { timeout: 5_000 }, () => {
  let text = '';
  const rows = new AlignedTable({ write: (t: string) => (text += t) });
  rows.write([
    ['EVENT', 'NAME', 'AGE'],
    ['ADDED', 'a', '1s'],
  ]);
  rows.write([['MODIFIED', 'a', '2s']]);
  rows.write([['DELETED', 'longer-name', '3s']]);
  // A cell wider than its column widens it from then on; the rows before stay as printed.
  assert.equal(text, 'EVENT   NAME   AGE\nADDED   a      1s\nMODIFIED   a      2s\nDELETED    longer-name   3s\n');
});

test('sorting: by a JSONPath, numbers by value, missing first; events by time by default', { timeout: 5_000 }, () => {
  const loans = [loan('c', 30), loan('a', 5), loan('b', 100)];
  assert.deepEqual(
    sortObjects(loans, 'Loan', '.spec.amount').map((l) => l.metadata.name),
    ['a', 'c', 'b'],
  );
  assert.deepEqual(
    sortObjects(loans, 'Loan', '{.status.reason}').map((l) => l.metadata.name),
    ['a', 'b', 'c'],
    'equal keys: by name',
  );
  assert.deepEqual(
    sortObjects(loans, 'Loan', undefined).map((l) => l.metadata.name),
    ['c', 'a', 'b'],
    'other kinds keep the server order',
  );
  const event = (name: string, lastTimestamp: string): SlvEvent => ({
    apiVersion: 'nm.planet-lab.org/v1',
    kind: 'Event',
    metadata: { name },
    spec: { involvedObject: { kind: 'Sliver', name: 'x' }, type: 'Normal', reason: 'R', message: '', count: 1, firstTimestamp: lastTimestamp, lastTimestamp, source: 's' },
  });
  const events = [event('z', '2026-01-01T00:00:03Z'), event('y', '2026-01-01T00:00:01Z'), event('x', '2026-01-01T00:00:02Z')];
  assert.deepEqual(
    sortObjects(events, 'Event', undefined).map((e) => e.metadata.name),
    ['y', 'x', 'z'],
  );
});

test('label and annotate arguments: KEY=VALUE sets, KEY- removes', { timeout: 5_000 }, () => {
  assert.deepEqual(parseMapChanges(['team=red', 'old-', 'empty=', 'url=a=b'], 'labels'), { team: 'red', old: null, empty: '', url: 'a=b' });
  assert.throws(() => parseMapChanges([], 'labels'), /no labels given/);
  assert.throws(() => parseMapChanges(['team'], 'annotations'), /invalid annotation "team": expected KEY=VALUE or KEY-/);
  assert.throws(() => parseMapChanges(['=x'], 'labels'), /invalid label "=x"/);
});

test('slvctl finds slvd: flag, then SLV_SERVER, then the first well-known socket that exists', { timeout: 5_000 }, () => {
  assert.equal(
    serverSocket('/flag.sock', { SLV_SERVER: '/env.sock' }, () => false),
    '/flag.sock',
  );
  assert.equal(
    serverSocket(undefined, { SLV_SERVER: '/env.sock' }, () => false),
    '/env.sock',
  );
  assert.equal(
    serverSocket(undefined, {}, (p) => p === '/var/lib/slv/api.sock' || p === CHECKOUT_API_SOCKET),
    '/var/lib/slv/api.sock',
  );
  assert.equal(
    serverSocket(undefined, {}, (p) => p === CHECKOUT_API_SOCKET),
    CHECKOUT_API_SOCKET,
    "npm start's socket from any directory",
  );
  assert.equal(DEFAULT_API_SOCKETS[0], '/run/slv/api.sock');
  assert.throws(() => serverSocket(undefined, {}, () => false), /cannot find slvd: no API socket at \/run\/slv\/api\.sock, .* \(is slvd running\?/);
});
