// Entry point: `npm start`, `bin/slvd.js`, `tsx controller/daemon/main.ts [flags]`.
import { runSlvd } from './slvd.js';

process.exit(await runSlvd(process.argv.slice(2)));
