// slvctl: the kubectl-like client of slvd's REST API (docs/cli.md). One top-level handler turns
// every failure into one line on stderr and the exit code of resources/errors.ts.
import { Command, CommanderError, Option } from 'commander';
import { ExitCodes, exitCodeFor, UsageError } from '../resources/errors.js';
import { SLV_VERSION } from '../resources/version.js';
import { apply, describe, diff, edit, get, parseLoanArguments, remove, setLoans, version, wait } from './commands.js';
import { bashCompletion } from './completion.js';
import { createContext, DEVELOPMENT_API_SOCKET, INSTALLED_API_SOCKET, type Context } from './context.js';
import { resolveKind } from './kinds.js';
import { colourFor, parseOutput } from './output.js';
import { parseDuration } from './wait.js';

const KIND_HELP = 'resource type: sliver (sl), delegate (dg), loan (ln) or event (ev)';
const DEFAULT_TIMEOUT = '30s';

function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`expected true or false, got "${value}"`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseDryRun(value: string | boolean): boolean {
  if (value === true || value === 'server') return true;
  if (value === 'none') return false;
  throw new UsageError(`invalid --dry-run=${String(value)}: expected server or none (validation always happens on the server)`);
}

export interface Run {
  exitCode: number;
  /** diff reserves 1 for "different", so its errors exit with at least 2. */
  minimumErrorCode: number;
}

/** The program, with `context` created lazily so --help and completion work without a server. */
export function buildProgram(run: Run): Command {
  const program = new Command('slvctl')
    .description('Manage the slivers, delegates and loans of a slv node through slvd\'s REST API.')
    .addOption(new Option('-s, --server <socket>', `slvd's API socket (default: $SLV_SERVER, else ${INSTALLED_API_SOCKET} if it exists, else ${DEVELOPMENT_API_SOCKET})`))
    .version(SLV_VERSION, '--client-version', 'print the client version')
    .showSuggestionAfterError()
    .exitOverride();
  const context = (command: Command): Context => createContext(command.optsWithGlobals<{ server?: string }>().server);

  program
    .command('get')
    .description('List objects of a kind, or show one')
    .argument('<kind>', KIND_HELP)
    .argument('[name]', 'one object')
    .option('-o, --output <format>', 'wide, yaml, json, name or jsonpath=TEMPLATE')
    .option('-w, --watch', 'after listing, print every change until interrupted')
    .option('-l, --selector <selector>', 'label selector, e.g. team=a,!legacy')
    .addHelpText('after', '\nExamples:\n  slvctl get sl\n  slvctl get sliver alice -o yaml\n  slvctl get sl -o jsonpath=\'{range .items[*]}{.metadata.name}{"\\n"}{end}\'')
    .action(async (kind: string, name: string | undefined, options: { output?: string; watch?: boolean; selector?: string }, command: Command) => {
      await get(context(command), resolveKind(kind), name, { output: parseOutput(options.output), watch: Boolean(options.watch), ...(options.selector ? { selector: options.selector } : {}) });
    });

  program
    .command('apply')
    .description('Create or update objects from manifests (server-side apply); all are validated before any is applied')
    .requiredOption('-f, --filename <path>', 'file, directory or - for stdin (repeatable)', collect, [])
    .option('--dry-run [mode]', 'server: validate and show what would happen, change nothing', parseDryRun, false)
    .option('--field-manager <name>', 'the manager that owns the applied fields', 'slvctl')
    .option('--force-conflicts', 'take ownership of fields another manager set', false)
    .addHelpText('after', '\nExamples:\n  slvctl apply -f sliver.yaml\n  slvctl apply -f manifests/ --dry-run=server\n  cat loans.yaml | slvctl apply -f -')
    .action(async (options: { filename: string[]; dryRun: boolean; fieldManager: string; forceConflicts: boolean }, command: Command) => {
      await apply(context(command), { files: options.filename, dryRun: options.dryRun, fieldManager: options.fieldManager, force: options.forceConflicts });
    });

  program
    .command('diff')
    .description('Show what apply would change; exit 0 if nothing, 1 if something, >1 on error')
    .requiredOption('-f, --filename <path>', 'file, directory or - for stdin (repeatable)', collect, [])
    .option('--field-manager <name>', 'the manager that owns the applied fields', 'slvctl')
    .option('--force-conflicts', 'diff as if taking ownership of conflicting fields', false)
    .action(async (options: { filename: string[]; fieldManager: string; forceConflicts: boolean }, command: Command) => {
      run.minimumErrorCode = ExitCodes.usage;
      const different = await diff(context(command), { files: options.filename, fieldManager: options.fieldManager, force: options.forceConflicts });
      run.exitCode = different ? 1 : 0;
    });

  program
    .command('describe')
    .description('Show one object for humans: spec, status, conditions, loans and recent events')
    .argument('<kind>', KIND_HELP)
    .argument('<name>')
    .action(async (kind: string, name: string, _options: unknown, command: Command) => {
      await describe(context(command), resolveKind(kind), name);
    });

  program
    .command('delete')
    .description('Delete objects; waits until finalizers let them go unless --wait=false')
    .argument('<kind>', KIND_HELP)
    .argument('<names...>')
    .option('--wait [bool]', 'wait for the object to be gone', parseBoolean, true)
    .option('--timeout <duration>', 'how long to wait', DEFAULT_TIMEOUT)
    .action(async (kind: string, names: string[], options: { wait: boolean; timeout: string }, command: Command) => {
      await remove(context(command), resolveKind(kind), names, { wait: options.wait, timeoutMs: parseDuration(options.timeout) });
    });

  program
    .command('wait')
    .description('Wait until an object meets a condition, or is deleted')
    .argument('<kind>', KIND_HELP)
    .argument('<name>')
    .requiredOption('--for <condition>', 'condition=Ready, condition=TYPE=False or delete')
    .option('--timeout <duration>', 'give up after this long (exit 1)', DEFAULT_TIMEOUT)
    .addHelpText('after', '\nExample:\n  slvctl wait sliver alice --for=condition=Ready --timeout=2m')
    .action(async (kind: string, name: string, options: { for: string; timeout: string }, command: Command) => {
      await wait(context(command), resolveKind(kind), name, { for: options.for, timeoutMs: parseDuration(options.timeout) });
    });

  program
    .command('edit')
    .description('Edit an object in $EDITOR and update it when saved')
    .argument('<kind>', KIND_HELP)
    .argument('<name>')
    .action(async (kind: string, name: string, _options: unknown, command: Command) => {
      await edit(context(command), resolveKind(kind), name, process.env.SLV_EDITOR || process.env.EDITOR || 'vi');
    });

  const loans = program.command('loans').description('Loans of a sliver');
  loans
    .command('set')
    .description("Replace a sliver's loans, as XML-RPC SetLoans does (no loans: remove them all)")
    .argument('<sliver>')
    .argument('[loans...]', 'TARGET:RESOURCE:AMOUNT, e.g. bob:cpu_share:10')
    .action(async (sliver: string, entries: string[], _options: unknown, command: Command) => {
      await setLoans(context(command), sliver, parseLoanArguments(entries));
    });

  program
    .command('version')
    .description('Print the client and server versions')
    .action(async (_options: unknown, command: Command) => {
      await version(context(command));
    });

  program
    .command('completion')
    .description('Print a shell completion script: source <(slvctl completion bash)')
    .argument('<shell>', 'bash')
    .action((shell: string) => {
      if (shell !== 'bash') throw new UsageError(`completion for "${shell}" is not available: only bash`);
      const flags = Object.fromEntries(program.commands.map((c) => [c.name(), c.options.map((o) => o.long ?? '')]));
      process.stdout.write(bashCompletion(flags));
    });

  for (const command of [program, ...program.commands, ...loans.commands]) command.exitOverride();
  return program;
}

/** Runs slvctl with `argv` (process.argv form); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const run: Run = { exitCode: ExitCodes.ok, minimumErrorCode: ExitCodes.failure };
  const program = buildProgram(run);
  // `slvctl get sl | head -1`: the reader left, which is not an error of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(run.exitCode);
    throw error;
  });
  try {
    await program.parseAsync(argv);
    return run.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${colourFor(process.stderr).red('error:')} ${message}\n`);
    return Math.max(exitCodeFor(error), run.minimumErrorCode);
  }
}
