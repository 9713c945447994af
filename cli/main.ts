// slvctl: the kubectl-like client of slvd's REST API (docs/cli.md). One top-level handler turns
// every failure into one line on stderr and the exit code of resources/errors.ts.
import { Command, CommanderError, Option } from 'commander';
import { ExitCodes, exitCodeFor, UsageError } from '../resources/errors.js';
import { SLV_VERSION } from '../resources/version.js';
import { apply, describe, diff, edit, logs, parseLoanArguments, remove, setLoans, version, wait } from './commands.js';
import { bashCompletion } from './completion.js';
import { createContext, DEFAULT_API_SOCKETS, serverSocket, type Context } from './context.js';
import { explain } from './explain.js';
import { get, getNodes, type GetOptions } from './get.js';
import { kubeconfig, parsePort, viewConfig, type KubeconfigOptions } from './kubeconfig.js';
import { parseTargets, resolveKind, type Target } from './kinds.js';
import { colourFor, parseOutput } from './output.js';
import { changeMetadata, changeRun, parseMapChanges, parsePatchType, patch, type PatchType, type RunVerb } from './verbs.js';
import { parseDuration } from './wait.js';

const KIND_HELP = 'resource type: sliver (sl), delegate (dg), loan (ln) or event (ev)';
/** `get nodes`: the fleet API's nodes, not a kind of the store. */
const NODE_NAMES = new Set(['nodes', 'node', 'no']);
const DEFAULT_TIMEOUT = '30s';
const DEFAULT_RECONNECT_TIMEOUT = '30s';

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

/** `-L a,b -L c`: label keys, repeatable and comma-separated. */
function collectList(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

interface ListFlags {
  output?: string;
  watch?: boolean;
  selector?: string;
  sortBy?: string;
  headers: boolean;
  showLabels?: boolean;
  labelColumns: string[];
  outputWatchEvents?: boolean;
  reconnectTimeout: string;
}

/** The flags `get` and `events` share. */
function withListFlags(command: Command): Command {
  return command
    .option('-o, --output <format>', 'wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=HEADER:PATH,...')
    .option('-w, --watch', 'after listing, print every change until interrupted (reconnects when slvd restarts)')
    .option('-l, --selector <selector>', 'label selector, e.g. team=a,!legacy')
    .option('--sort-by <jsonpath>', 'sort by this field, e.g. .metadata.creationTimestamp (events: by time)')
    .option('--no-headers', 'leave out the header row')
    .option('--show-labels', 'add a LABELS column')
    .option('-L, --label-columns <keys>', 'a column for each of these label keys (comma-separated, repeatable)', collectList, [])
    .option('--output-watch-events', 'with -w: an EVENT column (ADDED, MODIFIED, DELETED), or {type, object} documents')
    .option('--reconnect-timeout <duration>', 'with -w: how long to wait for slvd to come back before exiting 3', DEFAULT_RECONNECT_TIMEOUT);
}

function listOptions(flags: ListFlags, fieldSelector?: string): GetOptions {
  const output = parseOutput(flags.output);
  if (flags.outputWatchEvents && !flags.watch) throw new UsageError('--output-watch-events needs --watch (-w)');
  return {
    output,
    watch: Boolean(flags.watch),
    ...(flags.selector ? { selector: flags.selector } : {}),
    ...(fieldSelector ? { fieldSelector } : {}),
    ...(flags.sortBy ? { sortBy: parseSortBy(flags.sortBy) } : {}),
    noHeaders: !flags.headers,
    showLabels: Boolean(flags.showLabels),
    labelColumns: flags.labelColumns,
    watchEvents: Boolean(flags.outputWatchEvents),
    reconnectTimeoutMs: parseDuration(flags.reconnectTimeout),
  };
}

/** `--sort-by` is checked once, before anything is listed. */
function parseSortBy(value: string): string {
  parseOutput(`custom-columns=SORT:${value}`);
  return value;
}

/** `sliver alice bob` or `sliver/alice`: the slivers a sliver-only verb acts on. */
function sliverNames(args: string[], verb: string): string[] {
  const targets: Target[] = parseTargets(args);
  const names = targets.flatMap((t) => {
    if (t.kind !== 'Sliver') throw new UsageError(`slvctl ${verb} works on slivers only, not ${t.kind.toLowerCase()}s`);
    return t.names;
  });
  if (!names.length) throw new UsageError(`name the slivers, e.g. slvctl ${verb} sliver alice`);
  return names;
}

export interface Run {
  exitCode: number;
  /** diff reserves 1 for "different", so its errors exit with at least 2. */
  minimumErrorCode: number;
}

/** The program, with `context` created lazily so --help and completion work without a server. */
export function buildProgram(run: Run): Command {
  const program = new Command('slvctl')
    .description("Manage the slivers, delegates and loans of a slv node through slvd's REST API.")
    .addOption(new Option('-s, --server <socket>', `slvd's API socket or http://HOST:PORT (default: $SLV_SERVER, else the first that exists of ${DEFAULT_API_SOCKETS.join(', ')})`))
    .addOption(new Option('-n, --namespace <node>', "the fleet API: work on this node's objects (docs/fleet.md)"))
    .version(SLV_VERSION, '--client-version', 'print the client version')
    .showSuggestionAfterError()
    .exitOverride();
  const context = (command: Command): Context => {
    const { server, namespace } = command.optsWithGlobals<{ server?: string; namespace?: string }>();
    return createContext(server, namespace);
  };

  withListFlags(
    program
      .command('get')
      .description('List objects of one or more kinds, or show some by name')
      .argument('<kind>', `${KIND_HELP}; several as sl,dg; all; or TYPE/NAME; nodes (the fleet API)`)
      .argument('[names...]', 'objects of that type')
      .option('-A, --all-namespaces', 'the fleet API: the objects of every node, with a NODE column'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  slvctl get sl\n  slvctl --server http://127.0.0.1:6443 get sl -A\n  slvctl -n node7 get sl\n  slvctl get nodes\n  slvctl get sliver alice bob -o yaml\n  slvctl get sl,dg\n  slvctl get sliver/alice delegate/pl_monitor\n  slvctl get sl --sort-by .status.xid -L team\n  slvctl get sl -o custom-columns=NAME:.metadata.name,XID:.status.xid\n  slvctl get sl -o jsonpath=\'{range .items[*]}{.metadata.name}{"\\n"}{end}\'\n  slvctl get ln -w --output-watch-events',
    )
    .action(async (kind: string, names: string[], flags: ListFlags & { allNamespaces?: boolean }, command: Command) => {
      const options = { ...listOptions(flags), allNamespaces: Boolean(flags.allNamespaces) };
      if (NODE_NAMES.has(kind.toLowerCase())) return getNodes(context(command), names, options);
      await get(context(command), parseTargets([kind, ...names]), options);
    });

  withListFlags(
    program.command('events').description('List events, oldest first (like get ev); --for one object').option('--for <object>', 'only the events of this object, e.g. sliver/alice'),
  ).action(async (flags: ListFlags & { for?: string }, command: Command) => {
    let fieldSelector: string | undefined;
    if (flags.for !== undefined) {
      if (!/^[^/]+\/[^/]+$/.test(flags.for)) throw new UsageError(`invalid --for "${flags.for}": expected TYPE/NAME, e.g. sliver/alice`);
      const [target] = parseTargets([flags.for]);
      if (!target) throw new UsageError(`invalid --for "${flags.for}": expected TYPE/NAME, e.g. sliver/alice`);
      fieldSelector = `spec.involvedObject.kind=${target.kind},spec.involvedObject.name=${target.names[0]!}`;
    }
    await get(context(command), [{ kind: 'Event', names: [] }], listOptions(flags, fieldSelector));
  });

  const runVerbs: Array<[RunVerb, string]> = [
    ['start', 'Start slivers: spec.run.state=Running and a start request (as XML-RPC Start)'],
    ['stop', 'Stop slivers: spec.run.state=Stopped (as XML-RPC Stop)'],
    ['recreate', "Recreate slivers' accounts and start them again (as XML-RPC ReCreate)"],
  ];
  for (const [verb, description] of runVerbs) {
    program
      .command(verb)
      .description(description)
      .argument('<type>', 'sliver (sl), or sliver/NAME')
      .argument('[names...]')
      .option('--wait', 'wait until the account controller has done it')
      .option('--timeout <duration>', 'with --wait: how long', DEFAULT_TIMEOUT)
      .addHelpText('after', `\nExample:\n  slvctl ${verb} sliver alice --wait`)
      .action(async (type: string, names: string[], options: { wait?: boolean; timeout: string }, command: Command) => {
        await changeRun(context(command), verb, sliverNames([type, ...names], verb), { wait: Boolean(options.wait), timeoutMs: parseDuration(options.timeout) });
      });
  }

  program
    .command('patch')
    .description('Change fields of an object with a merge patch (default) or a JSON patch')
    .argument('<kind>', KIND_HELP)
    .argument('<name>')
    .requiredOption('-p, --patch <patch>', 'the patch, JSON or YAML')
    .option('--type <type>', 'merge (RFC 7386) or json (RFC 6902)', parsePatchType, 'merge' as PatchType)
    .addHelpText(
      'after',
      '\nExamples:\n  slvctl patch sl alice -p \'{"spec":{"run":{"state":"Stopped"}}}\'\n  slvctl patch sl alice --type json -p \'[{"op":"replace","path":"/spec/run/state","value":"Running"}]\'',
    )
    .action(async (kind: string, name: string, options: { patch: string; type: PatchType }, command: Command) => {
      await patch(context(command), resolveKind(kind), name, options.patch, options.type);
    });

  for (const what of ['labels', 'annotations'] as const) {
    const verb = what === 'labels' ? 'label' : 'annotate';
    program
      .command(verb)
      .description(`Set (KEY=VALUE) or remove (KEY-) ${what} of an object`)
      .argument('<kind>', KIND_HELP)
      .argument('<name>')
      .argument('<changes...>', 'KEY=VALUE or KEY-')
      .option('--overwrite', 'allow changing a value that is already set')
      .addHelpText('after', `\nExample:\n  slvctl ${verb} sl alice team=red old-`)
      .action(async (kind: string, name: string, changes: string[], options: { overwrite?: boolean }, command: Command) => {
        await changeMetadata(context(command), resolveKind(kind), name, what, parseMapChanges(changes, what), Boolean(options.overwrite));
      });
  }

  program
    .command('explain')
    .description('Describe a kind or one of its fields, from the JSON Schemas the server validates with')
    .argument('<field>', 'KIND[.FIELD...], e.g. sliver.spec.rspec')
    .option('--recursive', 'all fields below, not just the next level')
    .addHelpText('after', '\nExamples:\n  slvctl explain sliver\n  slvctl explain sl.spec.rspec.cpu_share\n  slvctl explain loan --recursive')
    .action((field: string, options: { recursive?: boolean }) => {
      process.stdout.write(explain(field, { recursive: Boolean(options.recursive) }));
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

  program
    .command('logs')
    .description("Print a sliver's init script output (of its last start)")
    .argument('<type>', 'sliver (sl), or sliver/NAME')
    .argument('[name]')
    .option('-f, --follow', 'keep printing new output until the init script exits')
    .addHelpText('after', '\nExample:\n  slvctl logs sliver alice -f')
    .action(async (type: string, name: string | undefined, options: { follow?: boolean }, command: Command) => {
      const names = sliverNames(name === undefined ? [type] : [type, name], 'logs');
      if (names.length !== 1) throw new UsageError('name one sliver, e.g. slvctl logs sliver alice');
      await logs(context(command), names[0]!, Boolean(options.follow));
    });

  const loans = program.command('loans').description('Loans of a sliver');
  loans
    .command('set')
    .description("Replace a sliver's loans, as XML-RPC SetLoans does (no loans: remove them all)")
    .argument('<sliver>')
    .argument('[loans...]', 'TARGET:RESOURCE:AMOUNT, e.g. bob:cpu_share:10')
    .option('--wait [bool]', "wait for the controllers' decision on each loan and print it", parseBoolean, true)
    .option('--timeout <duration>', 'how long to wait', DEFAULT_TIMEOUT)
    .addHelpText(
      'after',
      [
        '',
        'Prints each loan and its outcome: granted, or not granted with the reason (InsufficientResidual,',
        'UnknownTarget, UnknownLender) and what is still lendable.',
        `Exit codes: 0 every loan granted; ${ExitCodes.failure} one or more not granted, or the wait timed out; others as for every command.`,
        '',
        'Example:',
        '  slvctl loans set alice bob:cpu_share:10 bob:net_max:1000000',
      ].join('\n'),
    )
    .action(async (sliver: string, entries: string[], options: { wait: boolean; timeout: string }, command: Command) => {
      const granted = await setLoans(context(command), sliver, parseLoanArguments(entries), options.wait ? parseDuration(options.timeout) : undefined);
      if (!granted) run.exitCode = ExitCodes.failure;
    });

  const config = program.command('config').description('Configuration for other clients');
  /** The options saying which listener a kubeconfig is for. */
  const listenerOptions = (command: Command, port: Option) =>
    command
      .addOption(port)
      .option('--host <address>', 'the address slvd listens on', '127.0.0.1')
      .option('--https', "slvd's HTTPS listener (apiHttps), callers known by bearer token")
      .option('--certificate-authority <file>', "with --https: PEM of the CA slvd's certificate chains to, embedded in the kubeconfig")
      .option('--token-file <file>', 'with --https: a file whose first line is your bearer token')
      .option('--name <name>', 'the name of the cluster, user and context', 'slv');
  listenerOptions(
    config.command('kubeconfig').description("Print a kubeconfig for kubectl against slvd's loopback TCP listener (--api-port) or HTTPS listener: kubectl --kubeconfig FILE get sl"),
    new Option('--port <port>', "slvd's --api-port, or apiHttps.port with --https").argParser(parsePort).makeOptionMandatory(),
  ).action((options: KubeconfigOptions, command: Command) => {
    // -n NODE: the fleet API's node kubectl works on when it is given no -n.
    const { namespace } = command.optsWithGlobals<{ namespace?: string }>();
    process.stdout.write(kubeconfig({ ...options, ...(namespace === undefined ? {} : { namespace }) }));
  });
  listenerOptions(
    config
      .command('view')
      .description('Print the context slvctl uses (its socket; the kernel names you); with --port, the kubeconfig for that listener, the token redacted as kubectl does')
      .option('--raw', 'show the token and the embedded CA'),
    new Option('--port <port>', "slvd's --api-port, or apiHttps.port with --https").argParser(parsePort),
  ).action((options: Partial<KubeconfigOptions> & { name: string; raw?: boolean }, command: Command) => {
    const socket = () => serverSocket(command.optsWithGlobals<{ server?: string }>().server);
    process.stdout.write(viewConfig({ ...options, raw: options.raw ?? false, socket }));
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

  for (const command of [program, ...program.commands, ...loans.commands, ...config.commands]) command.exitOverride();
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
