// Entry point: `npm start`, `bin/slvd.js`, `tsx controller/daemon/main.ts [flags]`. The command
// line and config file are read before the daemon's modules load (prom-client, pino, SQLite, the
// API servers: most of slvd's start), so `slvd --help` and `--version` answer at once and a bad
// flag or config file fails at once.
import { loadConfigFile, parseCommandLine, printError, resolveConfig, type SlvdConfig } from './config.js';
import { exitCodeFor } from '../../resources/errors.js';
import type { SlvdConfigFile } from '../../schemas/config.js';

let config: SlvdConfig;
let flags: SlvdConfigFile;
try {
  const commandLine = parseCommandLine(process.argv.slice(2));
  if ('print' in commandLine) {
    process.stdout.write(commandLine.print);
    process.exit(0);
  }
  flags = commandLine.flags;
  config = resolveConfig(flags, commandLine.configFile ? loadConfigFile(commandLine.configFile) : {}, commandLine.configFile);
} catch (error) {
  printError(error);
  process.exit(exitCodeFor(error));
}
const { runSlvd } = await import('./slvd.js');
process.exit(await runSlvd(config, flags));
