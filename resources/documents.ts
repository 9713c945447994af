// Documents users and peers send (YAML and JSON manifests, request bodies): parsed into trees of
// null-prototype objects, with the keys that reach JavaScript's object machinery refused, so no
// member name in untrusted data can ever touch Object.prototype; and how their parse errors read.
import { YAMLError, parse as parseYamlText } from 'yaml';
import { BadRequestError } from './errors.js';

/** Keys refused anywhere in a document: as a property name each reaches a prototype, not data. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A JSON pointer token, escaped (RFC 6901). */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function forbiddenKey(key: string, pointer: string): BadRequestError {
  return new BadRequestError(`the key ${JSON.stringify(key)} at ${pointer || '/'} is not allowed: ${[...FORBIDDEN_KEYS].join(', ')} are refused as keys`);
}

/** Throws a BadRequestError naming the place if `key` is one of FORBIDDEN_KEYS. */
export function checkKey(key: string, pointer: string): void {
  if (FORBIDDEN_KEYS.has(key)) throw forbiddenKey(key, pointer);
}

/**
 * A parsed document as null-prototype objects and arrays (shared and cyclic parts, as YAML aliases
 * make, stay shared), refusing FORBIDDEN_KEYS; other values are kept as they are.
 */
function safeTree(value: unknown, pointer = '', seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    seen.set(value, items);
    value.forEach((item, index) => items.push(safeTree(item, `${pointer}/${index}`, seen)));
    return items;
  }
  const object = Object.create(null) as Record<string, unknown>;
  seen.set(value, object);
  for (const [key, member] of Object.entries(value)) {
    checkKey(key, pointer);
    object[key] = safeTree(member, `${pointer}/${pointerToken(key)}`, seen);
  }
  return object;
}

/** ` at line L, column C: what is wrong` for a YAML parse error (the library's own text repeats the place). */
export function describeYamlError(error: Error): string {
  const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const place = error instanceof YAMLError && error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
  return `${place}: ${what}`;
}

/** JSON text as a safe tree (above); invalid JSON or a forbidden key is a BadRequestError. */
export function parseJsonDocument(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadRequestError(`${what} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return safeTree(value);
}

/** One YAML document as a safe tree (above); invalid YAML or a forbidden key is a BadRequestError. */
export function parseYamlDocument(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = parseYamlText(text);
  } catch (error) {
    throw new BadRequestError(`${what} is not valid YAML${describeYamlError(error as Error)}`, { cause: error });
  }
  return safeTree(value);
}
