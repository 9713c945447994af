// Manifests for `apply -f` and `diff -f`: files, directories (their *.yaml, *.yml, *.json) or `-`
// (stdin); multi-document YAML or JSON; `kind: List` expanded. Every document is checked before
// anything is sent, so one bad document stops the whole command.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { yaml } from '../resources/lazy-modules.js';
import { describeYamlError } from '../resources/documents.js';
import { InvalidError, UsageError } from '../resources/errors.js';
import { API_VERSION, isKind, KINDS, type AnyObject } from '../schemas/types.js';

export interface Manifest {
  object: AnyObject;
  /** `file.yaml`, `file.yaml (document 2)` or `file.yaml (document 1, item 3)`: for error messages. */
  source: string;
}

const MANIFEST_FILE = /\.(ya?ml|json)$/;

function readSource(path: string): Array<{ path: string; text: string }> {
  if (path === '-') return [{ path: '<stdin>', text: readFileSync(0, 'utf8') }];
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`, { cause: error });
  }
  if (!isDirectory) return [{ path, text: readFileSync(path, 'utf8') }];
  const files = readdirSync(path)
    .filter((f) => MANIFEST_FILE.test(f))
    .sort();
  if (!files.length) throw new UsageError(`no manifests (*.yaml, *.yml, *.json) in directory ${path}`);
  return files.map((f) => ({ path: join(path, f), text: readFileSync(join(path, f), 'utf8') }));
}

/** The documents of one text: YAML (JSON is YAML too), each parse error reported with its line. */
export function parseDocuments(path: string, text: string): Manifest[] {
  const manifests: Manifest[] = [];
  const documents = yaml().parseAllDocuments(text);
  if (!Array.isArray(documents)) return manifests;
  documents.forEach((document, i) => {
    const where = documents.length > 1 ? `${path} (document ${i + 1})` : path;
    const error = document.errors[0];
    if (error) throw new InvalidError(`invalid YAML in ${path}${describeYamlError(error)}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    const items = (value as { kind?: unknown }).kind === 'List' ? (value as { items?: unknown }).items : undefined;
    if (items !== undefined && !Array.isArray(items)) throw new InvalidError(`${where}: a List must have an items array`);
    const entries = items ? items.map((item, j) => ({ item, source: `${path} (document ${i + 1}, item ${j + 1})` })) : [{ item: value, source: where }];
    for (const { item, source } of entries) manifests.push({ object: checkManifest(item, source), source });
  });
  return manifests;
}

/**
 * apiVersion, a known kind and a name: what the client must know to address the server, which
 * validates the rest (the CLI does not load the schemas, to start fast).
 */
function checkManifest(value: unknown, source: string): AnyObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidError(`${source}: expected an object with apiVersion, kind, metadata and spec`);
  const { apiVersion, kind, metadata } = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  if (apiVersion !== API_VERSION) throw new InvalidError(`${source}: apiVersion must be "${API_VERSION}", got ${JSON.stringify(apiVersion ?? null)}`);
  if (typeof kind !== 'string' || !isKind(kind)) throw new InvalidError(`${source}: unknown kind ${JSON.stringify(kind ?? null)}: expected one of ${KINDS.join(', ')}`);
  if (typeof metadata?.name !== 'string' || !metadata.name) throw new InvalidError(`${source}: metadata.name is required`);
  return value as AnyObject;
}

export function loadManifests(paths: readonly string[]): Manifest[] {
  if (!paths.length) throw new UsageError('no manifests given: use -f FILE, -f DIRECTORY or -f - (stdin)');
  const manifests = paths.flatMap((path) => readSource(path).flatMap((source) => parseDocuments(source.path, source.text)));
  if (!manifests.length) throw new UsageError(`no objects found in ${paths.join(', ')}`);
  return manifests;
}
