// Packages loaded on first use instead of at start: yaml alone takes longer to load than the rest of
// slvctl, and most commands (`version`, `get` as a table) never parse or print YAML or patch JSON.
import { createRequire } from 'node:module';
import type * as FastJsonPatch from 'fast-json-patch';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

function loadOnFirstUse<Module>(name: string): () => Module {
  let loaded: Module | undefined;
  return () => (loaded ??= require(name) as Module);
}

export const yaml = loadOnFirstUse<typeof Yaml>('yaml');
export const fastJsonPatch = loadOnFirstUse<typeof FastJsonPatch>('fast-json-patch');
