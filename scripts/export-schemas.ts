// `npm run schemas`: writes each kind's JSON Schema to schemas/<kind>.schema.json for editors and
// other tools. The TypeScript schemas in schemas/kinds.ts are the source; a test keeps these in sync.
import { writeFileSync } from 'node:fs';
import { SCHEMAS } from '../schemas/kinds.js';
import { KINDS } from '../schemas/types.js';

export function renderedSchemas(): Record<string, string> {
  return Object.fromEntries(KINDS.map((kind) => [`schemas/${kind.toLowerCase()}.schema.json`, `${JSON.stringify(SCHEMAS[kind], null, 2)}\n`]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, text] of Object.entries(renderedSchemas())) {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
