// Entry point: `npm start`, `bin/slvd.js`, `tsx controller/daemon/main.ts [flags]`. The command
// line is read before the daemon's modules load (prom-client, pino, SQLite, the API servers: most
// of slvd's start), so `slvd --help` and `--version` answer at once and a bad flag fails at once.
import { parseCommandLine, printError, type ParsedCommandLine } from './config.js';
import { exitCodeFor } from '../../resources/errors.js';

let commandLine: ParsedCommandLine;
try {
  commandLine = parseCommandLine(process.argv.slice(2));
} catch (error) {
  printError(error);
  process.exit(exitCodeFor(error));
}
if ('print' in commandLine) {
  process.stdout.write(commandLine.print);
  process.exit(0);
}
const { runSlvd } = await import('./slvd.js');
process.exit(await runSlvd(commandLine));
