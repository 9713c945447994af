// Packages loaded on first use instead of at start: yaml alone takes longer to load than the rest of
// slvctl, and most commands (`version`, `get` as a table) never parse or print YAML or patch JSON;
// ajv (~80 ms of CPU to load) only when slvd first validates a write or a config file, which a
// restart with nothing to change never does; xmlrpc's client (~55 ms) only at slvd's first call to PLC.
import { createRequire } from 'node:module';
import type * as AjvPackage from 'ajv';
import type * as FastJsonPatch from 'fast-json-patch';
import type * as XmlRpc from 'xmlrpc';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

function loadOnFirstUse<Module>(name: string): () => Module {
  let loaded: Module | undefined;
  return () => (loaded ??= require(name) as Module);
}

/** The packages loaded this way: a bundler cannot see them, so a bundle ships them beside itself. */
export const LAZY_PACKAGES = ['yaml', 'fast-json-patch', 'ajv', 'xmlrpc'] as const;

export const yaml = loadOnFirstUse<typeof Yaml>('yaml');
export const fastJsonPatch = loadOnFirstUse<typeof FastJsonPatch>('fast-json-patch');
export const ajv = loadOnFirstUse<typeof AjvPackage>('ajv');
export const xmlrpc = loadOnFirstUse<typeof XmlRpc>('xmlrpc');
