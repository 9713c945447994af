// The lifecycle: new → starting → running → closing → closed, misuse is an IllegalStateError,
// close runs once (also after a failed start); Disposables close in reverse, past failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Disposables, Lifecycle } from '../../../../adapters/support/lifecycle.js';
import { IllegalStateError } from '../../../../resources/errors.js';

test('a part moves through its states once; starting twice or after close is refused', async () => {
  const lifecycle = new Lifecycle('the part');
  const seen: string[] = [];
  await lifecycle.start(() => void seen.push(lifecycle.state));
  assert.equal(lifecycle.state, 'running');
  await assert.rejects(lifecycle.start(), (error: unknown) => error instanceof IllegalStateError && /cannot start: the part is running/.test(error.message));
  let closes = 0;
  const first = lifecycle.close(async () => {
    seen.push(lifecycle.state);
    closes += 1;
  });
  const second = lifecycle.close(async () => void (closes += 1));
  await Promise.all([first, second]);
  assert.equal(closes, 1, 'close runs once');
  assert.deepEqual(seen, ['starting', 'closing']);
  assert.equal(lifecycle.state, 'closed');
  assert.throws(() => lifecycle.require('add a key', 'new', 'running'), /cannot add a key: the part is closed/);
});

test('a failed start leaves the part starting, and close still runs', async () => {
  const lifecycle = new Lifecycle('the part');
  await assert.rejects(
    lifecycle.start(() => Promise.reject(new Error('no socket'))),
    /no socket/,
  );
  assert.equal(lifecycle.state, 'starting');
  let closed = false;
  await lifecycle.close(() => void (closed = true));
  assert.equal(closed, true);
  assert.equal(lifecycle.state, 'closed');
});

test('disposables close in reverse order; a failing close is logged, the rest close, the first failure is thrown', async () => {
  const lines: Array<{ msg: string }> = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  const parts = new Disposables(log);
  const closed: string[] = [];
  parts.add('store', () => void closed.push('store'));
  parts.add('node', () => Promise.reject(new Error('node stuck')));
  parts.add('server', async () => void closed.push('server'));
  await assert.rejects(parts.closeAll(), /node stuck/);
  assert.deepEqual(closed, ['server', 'store']);
  assert.deepEqual(
    lines.map((line) => line.msg),
    ['closing the node failed'],
  );
  await parts.closeAll(); // nothing left to close
  assert.deepEqual(closed, ['server', 'store']);
});
