// Which deletes are warned about (PLC's and the fleet's objects come back), and the Warning header
// that carries the text from slvd to slvctl, quotes and backslashes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recreationWarning } from '../../../resources/recreation.js';
import { parseWarnings, warningHeaderValue } from '../../../adapters/api/routes.js';
import { sliver } from '../../../adapters/store/conformance.js';
import { MANAGED_BY_LABEL } from '../../../schemas/types.js';

const labelled = (value: string) => ({ ...sliver('mit_ron'), metadata: { name: 'mit_ron', labels: { [MANAGED_BY_LABEL]: value } } });

test('a delete of a PLC or fleet object is warned about, naming who recreates it; a user object is not', () => {
  assert.match(recreationWarning(labelled('plc')) ?? '', /^sliver "mit_ron" is managed by PLC: the next PLC sync creates it again/);
  assert.match(recreationWarning(labelled('fleet')) ?? '', /^sliver "mit_ron" is managed by the fleet: it is created again from the fleet store/);
  assert.equal(recreationWarning(sliver('mine')), undefined);
  assert.equal(recreationWarning(labelled('someone-else')), undefined);
});

test('Warning header values round-trip, one or several, with quotes and backslashes', () => {
  const texts = ['sliver "a" comes back', 'a \\ backslash', 'plain'];
  const values = texts.map(warningHeaderValue);
  assert.equal(values[0], '299 - "sliver \\"a\\" comes back"');
  assert.deepEqual(parseWarnings(values), texts);
  assert.deepEqual(parseWarnings(values.join(', ')), texts, 'as Node joins repeated headers');
  assert.deepEqual(parseWarnings(undefined), []);
  assert.deepEqual(parseWarnings('199 - "not ours"'), []);
});
