// slvd's log lines for people, and errors: a user's mistake without a stack, a bug with one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, readableLine, resolveLogFormat, serializeError } from '../../../../controller/daemon/log.js';
import { SlvError, UsageError } from '../../../../resources/errors.js';

function capture(isTTY: boolean, format: 'auto' | 'json' | 'pretty' = 'auto') {
  const lines: string[] = [];
  const log = createLogger('info', format, { isTTY, write: (text: string) => lines.push(text) });
  return { log, lines };
}

test('auto is readable on a terminal and JSON otherwise; an explicit format wins', { timeout: 5_000 }, () => {
  assert.equal(resolveLogFormat('auto', { isTTY: true, write: () => true }), 'pretty');
  assert.equal(resolveLogFormat('auto', { write: () => true }), 'json');
  assert.equal(resolveLogFormat('json', { isTTY: true, write: () => true }), 'json');
  const json = capture(false);
  json.log.child({ component: 'plc' }).info({ created: 2 }, 'synced');
  const entry = JSON.parse(json.lines[0]!) as Record<string, unknown>;
  assert.deepEqual([entry.msg, entry.component, entry.created, entry.level], ['synced', 'plc', 2, 30]);
});

test('a readable line: time, level, where, message, fields, and an error without its JSON', { timeout: 5_000 }, () => {
  const saved = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
  try {
    const { log, lines } = capture(true);
    log.child({ component: 'plc' }).info({ created: 2, source: 'file /a b.json' }, 'synced');
    log.warn({ err: new UsageError('config file x.yaml is invalid: unknown setting "periodSeconds"') }, 'SIGHUP: config not reloaded');
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO  \[plc\] synced created=2 source="file \/a b\.json"\n$/);
    assert.match(lines[1]!, /^\d\d:\d\d:\d\d\.\d{3} WARN  SIGHUP: config not reloaded error: config file x\.yaml is invalid: unknown setting "periodSeconds"\n$/);
  } finally {
    if (saved === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved;
  }
});

test('colour only when asked; a bug keeps its stack on the following lines', { timeout: 5_000 }, () => {
  const bug = JSON.stringify({
    level: 50,
    time: 0,
    msg: 'reconcile failed',
    controller: 'account',
    err: { type: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at f (a.ts:1:1)' },
  });
  assert.equal(readableLine(bug, false), '00:00:00.000 ERROR [account] reconcile failed error: x is undefined\n    at f (a.ts:1:1)\n');
  assert.match(readableLine(bug, true), /\u001b\[31mERROR\u001b\[0m/);
  assert.equal(readableLine('not json', false), 'not json');
});

test('user errors are logged without a stack; other errors keep it', { timeout: 5_000 }, () => {
  assert.deepEqual(serializeError(new UsageError('bad flag')), { type: 'UsageError', message: 'bad flag' });
  assert.deepEqual(serializeError(new SlvError('Invalid', 'bad object')), { type: 'SlvError', message: 'bad object' });
  const bug = serializeError(new TypeError('oops')) as { stack?: string };
  assert.match(bug.stack ?? '', /^TypeError: oops\n\s+at /);
});
