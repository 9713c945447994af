// Which requests the XML-RPC listeners answer themselves: only a whole HTTP/1.0 POST with one plain
// Content-Length and nothing asked of the connection; everything else, or anything in doubt, is Node's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainResponse, scanPlainRequest } from '../../../../../adapters/api/xmlrpc/fast-path.js';

const BODY = '<?xml version="1.0"?><methodCall><methodName>Help</methodName><params></params></methodCall>';
const LIMIT = 1024 * 1024;

function request(head: string[], body = BODY): Buffer {
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}
const plainHead = (...headers: string[]) => ['POST / HTTP/1.0', 'Content-Type: text/xml', `Content-Length: ${BODY.length}`, ...headers];

test('a whole plain request yields its body', () => {
  for (const head of [plainHead(), plainHead('User-Agent: xmlrpclib.py/1.0.1 (by www.pythonware.com)'), ['POST /RPC2 HTTP/1.0', `content-length:${BODY.length}`, 'Host: localhost:812']]) {
    const scan = scanPlainRequest(request(head), LIMIT);
    assert.ok(typeof scan === 'object', head.join(' | '));
    assert.equal(scan.body.toString(), BODY);
  }
  const empty = scanPlainRequest(request(['POST / HTTP/1.0', 'Content-Length: 0'], ''), LIMIT);
  assert.ok(typeof empty === 'object' && empty.body.length === 0);
});

test('a request not yet whole is waited for', () => {
  const whole = request(plainHead());
  for (const cut of [1, 10, whole.indexOf('\r\n\r\n') + 2, whole.indexOf('\r\n\r\n') + 4, whole.length - 1]) {
    assert.equal(scanPlainRequest(whole.subarray(0, cut), LIMIT), 'incomplete', `first ${cut} bytes`);
  }
});

test('anything else is left to Node', () => {
  const cases: [string, Buffer][] = [
    ['HTTP/1.1', request(['POST / HTTP/1.1', 'Host: x', `Content-Length: ${BODY.length}`])],
    ['GET', request(['GET / HTTP/1.0', `Content-Length: ${BODY.length}`])],
    ['a path with a space', request(['POST /a b HTTP/1.0', `Content-Length: ${BODY.length}`])],
    ['keep-alive asked', request(plainHead('Connection: keep-alive'))],
    ['Keep-Alive header', request(plainHead('Keep-Alive: timeout=5'))],
    ['chunked', request(['POST / HTTP/1.0', 'Transfer-Encoding: chunked'])],
    ['Expect', request(plainHead('Expect: 100-continue'))],
    ['no Content-Length', request(['POST / HTTP/1.0', 'Content-Type: text/xml'], '')],
    ['two Content-Lengths', request(plainHead(`Content-Length: ${BODY.length}`))],
    ['a Content-Length that is not a number', request(['POST / HTTP/1.0', 'Content-Length: 9x'])],
    ['a negative Content-Length', request(['POST / HTTP/1.0', 'Content-Length: -1'])],
    ['a body over the limit', request(['POST / HTTP/1.0', `Content-Length: ${BODY.length}`])],
    ['a byte outside visible ASCII in a value', request(plainHead('X-Note: caf\xe9'))],
    ['a control byte in a value', request(plainHead('X-Note: a\x01b'))],
    ['a folded header', request([...plainHead(), ' continued'])],
    ['a name that is not a token', request(plainHead('X Note: 1'))],
    ['bytes past the body', Buffer.concat([request(plainHead()), Buffer.from('POST')])],
    ['a head over 8 KiB', request(plainHead(`X-Pad: ${'a'.repeat(9000)}`))],
    ['an endless head', Buffer.from(`POST / HTTP/1.0\r\nX-Pad: ${'a'.repeat(9000)}`)],
    ['a body larger than the buffered reads', request(['POST / HTTP/1.0', `Content-Length: ${70 * 1024}`], 'x'.repeat(70 * 1024))],
  ];
  for (const [what, bytes] of cases) {
    const limit = what === 'a body over the limit' ? BODY.length - 1 : LIMIT;
    assert.equal(scanPlainRequest(bytes, limit), 'other', what);
  }
});

test('the answer is framed as Node frames a Connection: close response, the length in bytes', () => {
  const xml = '<?xml version="1.0"?><methodResponse><params><param><value><string>é</string></value></param></params></methodResponse>';
  const text = plainResponse(xml);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/xml\r\nContent-Length: (\d+)\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\nConnection: close\r\n\r\n/);
  assert.equal(Number(/Content-Length: (\d+)/.exec(text)![1]), Buffer.byteLength(xml));
  assert.ok(text.endsWith(xml));
});
