// XML-RPC encoding for the shim, on top of the xmlrpc package's deserializer and serializer, with
// the corrections the Node Manager API needs:
// - a <double> stays distinguishable from an integer (the package turns 1.0 into 1, but SetLoans
//   must refuse floats), so doubles decode to XmlRpcDouble;
// - <i8> decodes to a number (the package leaves a string), or a bigint beyond 2^53;
// - <int> must be an integer (the package's parseInt accepts "12abc");
// - structs decode to null-prototype objects, so member names like __proto__ are plain keys;
// - integers beyond 32 bits encode as <i8> (the package writes <int> for every integer);
// - text XML 1.0 does not allow (control characters, U+FFFE, U+FFFF, lone surrogates) is refused in
//   a request, raw or as a character reference, and replaced by U+FFFD in every answer, faults
//   included, since the package's builder throws on it.
import { createRequire } from 'node:module';
import { BadRequestError } from '../../../resources/errors.js';

const require = createRequire(import.meta.url);

interface XmlBuilderNode {
  ele(name: string): XmlBuilderNode;
  txt(text: string): XmlBuilderNode;
}
interface SaxNode {
  name: string;
}
interface SaxParser {
  onopentag(node: SaxNode): void;
  onclosetag(name: string): void;
  ontext(text: string): void;
  oncdata(text: string): void;
  onerror(error: Error): void;
  onend(): void;
  write(text: string): SaxParser;
  close(): SaxParser;
}
interface PackageDeserializer {
  deserializeMethodCall(stream: unknown, callback: (error: Error | null | undefined, method?: string, params?: unknown[]) => void): void;
  onOpentag(node: SaxNode): void;
  onClosetag(name: string): void;
  onText(text: string): void;
  onCDATA(text: string): void;
  onError(error: Error): void;
  onDone(): void;
  push(value: unknown): void;
  stack: unknown[];
  marks: number[];
  value: boolean;
  endDouble(data: string): void;
  endI8(data: string): void;
  endInt(data: string): void;
  endStruct(data: string): void;
  endBase64(data: string): void;
}
interface PackageSerializer {
  serializeMethodResponse(value: unknown): string;
  serializeFault(fault: { faultCode: number; faultString: string }): string;
}
type CustomValue = new (raw: string) => { serialize(xml: XmlBuilderNode): XmlBuilderNode };

interface PackageParts {
  Deserializer: { prototype: PackageDeserializer };
  /** The SAX parser the package's deserializer is written for (its own dependency). */
  sax: { parser(strict: boolean): SaxParser };
  serializer: PackageSerializer;
  /** A 64-bit integer, written as <i8>. */
  I8: CustomValue;
}

let parts: PackageParts | undefined;

/**
 * The package's files, loaded at the first call (~55 ms of CPU, most of it xmlbuilder, which the
 * serializer loads): a node no one calls over XML-RPC never pays for them, and slvd starts sooner.
 * Its index is never loaded: it also loads the package's HTTP client and server.
 */
function xmlrpcPackage(): PackageParts {
  if (parts) return parts;
  const CustomType = require('xmlrpc/lib/customtype.js') as CustomValue;
  class I8 extends CustomType {}
  (I8.prototype as unknown as { tagName: string }).tagName = 'i8';
  return (parts = {
    Deserializer: require('xmlrpc/lib/deserializer.js') as PackageParts['Deserializer'],
    sax: createRequire(require.resolve('xmlrpc'))('sax') as PackageParts['sax'],
    serializer: require('xmlrpc/lib/serializer.js') as PackageSerializer,
    I8,
  });
}

/** A decoded <double>: kept apart from integers, which are plain numbers. */
export class XmlRpcDouble {
  constructor(readonly value: number) {}
}

/** A fault answer: `faultCode` and the exact `faultString`. */
export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
    options?: ErrorOptions,
  ) {
    super(faultString, options);
    this.name = 'XmlRpcFault';
  }
}

export interface MethodCall {
  method: string;
  params: unknown[];
}

const INTEGER = /^[+-]?[0-9]+$/;
/** A character XML 1.0 does not allow (its Char production), a lone surrogate included. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NOT_XML_CHARS = new RegExp(NOT_XML_CHAR.source, 'gu');

/** U+XXXX of a character, for messages that must not contain it. */
function codePointName(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function refuseNonXmlText(text: string): void {
  const bad = NOT_XML_CHAR.exec(text)?.[0];
  if (bad !== undefined) throw new Error(`the request contains ${codePointName(bad)}, which XML 1.0 does not allow`);
}

/** `text` with every character XML 1.0 does not allow replaced by U+FFFD. */
function xmlSafeText(text: string): string {
  return text.replace(NOT_XML_CHARS, '\uFFFD');
}

function decodeInteger(data: string, tag: string): number | bigint {
  const text = data.trim();
  if (!INTEGER.test(text)) throw new BadRequestError(`<${tag}> must hold an integer, got ${JSON.stringify(text.slice(0, 40))}`);
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

/**
 * The package's deserializer with the corrections listed at the top of this file. It is made without
 * its constructor, which only adds a SAX *stream* (most of the cost of a call); the fields are the
 * constructor's, and decodeMethodCall feeds it from a plain SAX parser instead.
 */
function correctedDeserializer(): PackageDeserializer {
  const deserializer = Object.assign(Object.create(xmlrpcPackage().Deserializer.prototype) as PackageDeserializer, {
    type: null,
    responseType: null,
    stack: [],
    marks: [],
    data: [],
    methodname: null,
    encoding: 'utf8',
    value: false,
    callback: null,
    error: null,
  });
  deserializer.endInt = (data) => {
    deserializer.push(decodeInteger(data, 'int'));
    deserializer.value = false;
  };
  deserializer.endI8 = (data) => {
    deserializer.push(decodeInteger(data, 'i8'));
    deserializer.value = false;
  };
  deserializer.endDouble = (data) => {
    const value = Number(data.trim());
    if (data.trim() === '' || !Number.isFinite(value)) throw new BadRequestError(`<double> must hold a number, got ${JSON.stringify(data.trim().slice(0, 40))}`);
    deserializer.push(new XmlRpcDouble(value));
    deserializer.value = false;
  };
  deserializer.endBase64 = (data) => {
    deserializer.push(Buffer.from(data, 'base64'));
    deserializer.value = false;
  };
  deserializer.endStruct = () => {
    const mark = deserializer.marks.pop() ?? 0;
    const items = deserializer.stack.slice(mark);
    if (items.length % 2 !== 0) throw new BadRequestError('a struct member lacks its name or its value');
    const struct: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < items.length; i += 2) {
      const name = items[i];
      if (typeof name !== 'string') throw new BadRequestError('a struct member name must be a string');
      struct[name] = items[i + 1];
    }
    deserializer.stack.splice(mark, items.length, struct);
    deserializer.value = false;
  };
  return deserializer;
}

/** The stream deserializeMethodCall would read; here the SAX events are fed to it directly. */
const FED_DIRECTLY = { setEncoding() {}, on() {}, pipe() {} };

// The shape of almost every call: string parameters of plain text (no markup, no references,
// XML whitespace between tags), as Python's xmlrpc.client and forward_api_calls send them. Such a
// call decodes to the same method and strings as through SAX and the deserializer, at a fraction of
// the cost; anything else takes that full path.
const WS = '[ \\t\\r\\n]*';
const PLAIN = '[^<&]*';
const STRING_PARAM = `<param>${WS}<value>${WS}<string>${PLAIN}</string>${WS}</value>${WS}</param>`;
const PLAIN_CALL = new RegExp(
  `^${WS}(?:<\\?xml[ \\t\\r\\n][^<>?]*\\?>${WS})?<methodCall>${WS}<methodName>([^<&]+)</methodName>${WS}<params>((?:${WS}${STRING_PARAM})*)${WS}</params>${WS}</methodCall>${WS}$`,
);
const STRING_OPEN = '<string>';
const STRING_CLOSE = '</string>';

function decodePlainCall(text: string): MethodCall | undefined {
  const match = PLAIN_CALL.exec(text);
  if (!match) return undefined;
  // The expression has checked the shape, so each value is what lies between <string> and </string>
  // (a scan by indexOf: matchAll cost five times the whole match).
  const values = match[2]!;
  const params: string[] = [];
  for (let at = values.indexOf(STRING_OPEN); at >= 0; at = values.indexOf(STRING_OPEN, at)) {
    const end = values.indexOf(STRING_CLOSE, at);
    params.push(values.slice(at + STRING_OPEN.length, end));
    at = end + STRING_CLOSE.length;
  }
  return { method: match[1]!, params };
}

/** Decode a methodCall body; malformed XML or XML-RPC is an Error naming the problem. */
export function decodeMethodCall(body: Buffer): MethodCall {
  const text = body.toString('utf8');
  refuseNonXmlText(text);
  return decodePlainCall(text) ?? decodeThroughSax(text);
}

function decodeThroughSax(text: string): MethodCall {
  const deserializer = correctedDeserializer();
  let outcome: { call: MethodCall } | { error: Error } | undefined;
  deserializer.deserializeMethodCall(FED_DIRECTLY, (error, method, params) => {
    // The first outcome counts: the package may report a later parse error after it.
    outcome ??= error ? { error } : { call: { method: method ?? '', params: params ?? [] } };
  });
  const parser = xmlrpcPackage().sax.parser(false); // not strict, as the package's own stream
  parser.onopentag = (node) => deserializer.onOpentag(node);
  parser.onclosetag = (name) => deserializer.onClosetag(name);
  // Character references arrive decoded here (&#1; as U+0001), after the raw check below.
  parser.ontext = (text) => {
    refuseNonXmlText(text);
    deserializer.onText(text);
  };
  parser.oncdata = (text) => {
    refuseNonXmlText(text);
    deserializer.onCDATA(text);
  };
  parser.onerror = (error) => deserializer.onError(error);
  parser.onend = () => deserializer.onDone();
  try {
    parser.write(text).close();
  } catch (error) {
    outcome ??= { error: error as Error };
  }
  if (!outcome) throw new BadRequestError('Invalid XML-RPC message');
  if ('error' in outcome) throw outcome.error;
  return outcome.call;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

// Integers outside the 32-bit <int> range become <i8>, strings and member names XML-safe;
// everything else is left to the package.
function forXml(value: unknown): unknown {
  if (typeof value === 'string') return xmlSafeText(value);
  if (typeof value === 'bigint') return new (xmlrpcPackage().I8)(value.toString());
  if (typeof value === 'number') return Number.isInteger(value) && (value < INT32_MIN || value > INT32_MAX) ? new (xmlrpcPackage().I8)(String(value)) : value;
  if (Array.isArray(value)) return value.map(forXml);
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [xmlSafeText(key), forXml(member)]));
  }
  return value;
}

/** An answer encoded already (see encodedOnce). */
export class EncodedResponse {
  constructor(readonly xml: string) {}
}

export function encodeResponse(value: unknown): string {
  return value instanceof EncodedResponse ? value.xml : xmlrpcPackage().serializer.serializeMethodResponse(forXml(value));
}

/**
 * The answer `answer()` gives for `key`, encoded on the first call and reused while `key` lives:
 * for answers that depend only on an object the cache replaces when it changes and never edits.
 * An answer that cannot be encoded is returned as it is, for the caller's usual fault.
 */
export function encodedOnce<K extends object>(memo: WeakMap<K, EncodedResponse>, key: K, answer: () => unknown): unknown {
  const known = memo.get(key);
  if (known) return known;
  const value = answer();
  let encoded: EncodedResponse;
  try {
    encoded = new EncodedResponse(encodeResponse(value));
  } catch {
    return value;
  }
  memo.set(key, encoded);
  return encoded;
}

export function encodeFault(fault: XmlRpcFault): string {
  return xmlrpcPackage().serializer.serializeFault({ faultCode: fault.faultCode, faultString: xmlSafeText(fault.faultString) });
}
