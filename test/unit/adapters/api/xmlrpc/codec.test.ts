// The plain-string shortcut of decodeMethodCall must decode every call it takes exactly as SAX and
// the package's deserializer do. A comment right after <methodCall> changes nothing for SAX but
// keeps the call off the shortcut, so each generated call is decoded both ways and compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMethodCall } from '../../../../../adapters/api/xmlrpc/codec.js';

function decoded(xml: string): unknown {
  try {
    return decodeMethodCall(Buffer.from(xml));
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function throughSax(xml: string): unknown {
  return decoded(xml.replace('<methodCall>', '<methodCall><!---->'));
}

/** A small deterministic generator (xorshift), so a failure can be replayed. */
function generator(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

const TEXT = ['a', 'Z', ' ', '\t', '\r', '\n', '\r\n', '>', ']', ']]>', '"', "'", 'é', '😀', '\u00a0', '\u2028', '/', '?', '=', '-', 'GetRSpec'];
const SPACE = ['', ' ', '\n', '\r\n', '\t', '  \n  '];
const DECLARATION = ['', '<?xml version="1.0"?>', "<?xml version='1.0' encoding='utf-8'?>\n"];

test('calls of plain string parameters decode as through SAX, whitespace, declarations and empty strings included', () => {
  const pick = generator(0x5eed);
  const text = () => Array.from({ length: pick(8) }, () => TEXT[pick(TEXT.length)]!).join('');
  const space = () => SPACE[pick(SPACE.length)]!;
  let decodedCalls = 0;
  for (let i = 0; i < 3000; i++) {
    const params = Array.from({ length: pick(4) }, () => `${space()}<param>${space()}<value>${space()}<string>${text()}</string>${space()}</value>${space()}</param>`).join('');
    const xml = `${space()}${DECLARATION[pick(DECLARATION.length)]}${space()}<methodCall>${space()}<methodName>${text()}</methodName>${space()}<params>${params}${space()}</params>${space()}</methodCall>${space()}`;
    const result = decoded(xml);
    assert.deepEqual(result, throughSax(xml), `decoded differently: ${JSON.stringify(xml)}`);
    if (!(result as { error?: string }).error) decodedCalls++;
  }
  assert.ok(decodedCalls > 2000, `most generated calls are valid (${decodedCalls})`);
});

test('what Python xmlrpc.client sends decodes to its method and strings', () => {
  const xml = "<?xml version='1.0'?>\n<methodCall>\n<methodName>GetRSpec</methodName>\n<params>\n<param>\n<value><string>alice</string></value>\n</param>\n</params>\n</methodCall>\n";
  assert.deepEqual(decodeMethodCall(Buffer.from(xml)), { method: 'GetRSpec', params: ['alice'] });
  assert.deepEqual(throughSax(xml), { method: 'GetRSpec', params: ['alice'] });
});

test('an empty method name is refused on both paths, and text XML does not allow is refused before either', () => {
  const empty = '<methodCall><methodName></methodName><params></params></methodCall>';
  assert.deepEqual(decoded(empty), throughSax(empty));
  assert.ok((decoded(empty) as { error?: string }).error);
  assert.throws(() => decodeMethodCall(Buffer.from('<methodCall><methodName>Help</methodName><params><param><value><string>\u0001</string></value></param></params></methodCall>')), /U\+0001/);
});
