// Writes slivers in a loop with 8 concurrent writers and prints each name once its write is
// acknowledged; the crash test kills it with SIGKILL at a random moment.
import { openSqliteStore } from '../../adapters/store/sqlite.js';
import { sliver } from '../../adapters/store/conformance.js';

const [file, prefix] = process.argv.slice(2) as [string, string];
const store = openSqliteStore(file);
let next = 0;
async function writer(): Promise<never> {
  for (;;) {
    const name = `${prefix}_${next++}`;
    await store.create(sliver(name));
    process.stdout.write(`${name}\n`);
  }
}
await Promise.all(Array.from({ length: 8 }, writer));
