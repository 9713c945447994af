#!/usr/bin/env node
// slvctl: runs cli/main (compiled, or the sources through tsx: bin/launch.js) and exits with its code.
import { importEntry } from './launch.js';

const { main } = await importEntry('cli/main');
process.exit(await main(process.argv));
