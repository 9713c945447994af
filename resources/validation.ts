// Schema enforcement at the store boundary: every object written is checked by ajv against its
// kind's JSON Schema (a status write: its status), and failures name the field and the rule.
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { ajv as ajvPackage } from './lazy-modules.js';
import { SCHEMAS } from '../schemas/kinds.js';
import { NAME_RULES } from '../schemas/common.js';
import { InvalidError, type StatusCause } from './errors.js';
import { API_VERSION, KINDS, isKind, type Kind, type KindMap } from '../schemas/types.js';

let compiler: Ajv | undefined;
/** Made on first use (resources/lazy-modules.ts). verbose: errors carry their schema, so a range error can name both ends of the range. */
function ajv(): Ajv {
  return (compiler ??= new (ajvPackage().Ajv)({ allErrors: true, strict: true, allowUnionTypes: false, verbose: true }));
}

/** A kind's validator of `schemaOf(kind)`, compiled on first use: a process that writes few kinds (or none, a restart with nothing to change) compiles only those. */
function compiledOnFirstUse(schemaOf: (kind: Kind) => object): (kind: Kind) => ValidateFunction {
  const compiled = new Map<Kind, ValidateFunction>();
  return (kind) => {
    let validate = compiled.get(kind);
    if (!validate) compiled.set(kind, (validate = ajv().compile(schemaOf(kind))));
    return validate;
  };
}

const objectValidator = compiledOnFirstUse((kind) => SCHEMAS[kind]);
/** The kind's status rules alone, at the same path (`status.…`) as in the whole object's schema. */
const statusValidator = compiledOnFirstUse((kind) => ({ type: 'object', properties: { status: (SCHEMAS[kind] as { properties: { status: object } }).properties.status } }));

function describe(error: ErrorObject): StatusCause {
  const field = error.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)';
  switch (error.keyword) {
    case 'additionalProperties':
      return { field: field === '(root)' ? String(error.params.additionalProperty) : `${field}.${String(error.params.additionalProperty)}`, message: 'unknown field' };
    case 'required':
      return { field: field === '(root)' ? String(error.params.missingProperty) : `${field}.${String(error.params.missingProperty)}`, message: 'required field is missing' };
    case 'pattern':
      return { field, message: NAME_RULES[String(error.params.pattern)] ?? `must match ${String(error.params.pattern)}` };
    case 'enum':
      return { field, message: `must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}` };
    case 'const':
      return { field, message: `must be ${JSON.stringify(error.params.allowedValue)}` };
    case 'minimum':
    case 'maximum': {
      const { minimum, maximum } = error.parentSchema as { minimum?: number; maximum?: number };
      if (minimum !== undefined && maximum !== undefined) return { field, message: `${String(error.data)} is out of range: must be from ${minimum} to ${maximum}` };
      return { field, message: error.message ?? 'is out of range' };
    }
    default:
      return { field, message: error.message ?? 'is invalid' };
  }
}

/** Check the apiVersion and kind of anything claiming to be an object; returns its kind. */
export function kindOf(value: unknown): Kind {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidError('object must be a JSON object with apiVersion, kind, metadata and spec');
  }
  const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== API_VERSION) {
    throw new InvalidError(`apiVersion must be "${API_VERSION}", got ${JSON.stringify(apiVersion ?? null)}`, [{ field: 'apiVersion', message: `must be ${API_VERSION}` }]);
  }
  if (typeof kind !== 'string' || !isKind(kind)) {
    throw new InvalidError(`unknown kind ${JSON.stringify(kind ?? null)}: expected one of ${KINDS.join(', ')}`, [{ field: 'kind', message: `must be one of ${KINDS.join(', ')}` }]);
  }
  return kind;
}

/** Validate an object of the given kind; throws InvalidError naming every failing field. */
export function validateObject<K extends Kind>(kind: K, value: unknown): asserts value is KindMap[K] {
  const actual = kindOf(value);
  if (actual !== kind) throw new InvalidError(`kind must be ${kind}, got ${actual}`, [{ field: 'kind', message: `must be ${kind}` }]);
  check(kind, objectValidator(kind), value);
}

/**
 * Validate only the status of `object`, whose other parts are a stored object's (a status write
 * changes nothing else, and they were validated when written): the same errors for a bad status
 * as validateObject, without walking the spec and metadata again at every status write.
 */
export function validateStatus(object: KindMap[Kind]): void {
  check(object.kind, statusValidator(object.kind), object);
}

function check(kind: Kind, validate: ValidateFunction, value: unknown): void {
  if (validate(value)) return;
  const causes = (validate.errors ?? []).map(describe);
  const name = (value as { metadata?: { name?: unknown } }).metadata?.name;
  const who = typeof name === 'string' ? `${kind} "${name}"` : kind;
  throw new InvalidError(`${who} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
}
