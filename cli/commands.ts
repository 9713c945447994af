// The slvctl commands. Each takes the Context and its parsed arguments; failures are thrown as the
// typed errors of resources/errors.ts and turned into one stderr line and an exit code by main.ts.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { yaml } from '../resources/lazy-modules.js';
import { SLV_VERSION } from '../resources/version.js';
import { jsonEqual } from '../resources/equal.js';
import { InvalidError, SlvError, UsageError } from '../resources/errors.js';
import { parseLoanList } from '../resources/rspec.js';
import type { LoanEntry } from '../resources/loans.js';
import type { AnyObject, Kind, Loan } from '../schemas/types.js';
import type { Context } from './context.js';
import { describeObject } from './describe.js';
import { unifiedDiff } from './diff.js';
import { qualifiedName } from '../resources/columns.js';
import { loadManifests, parseDocuments, type Manifest } from './manifests.js';
import { forDisplay } from './output.js';
import { parseFor, waitUntil, watchUntil } from './wait.js';

// ---- apply and diff -----------------------------------------------------------------------------

export interface ApplyOptions {
  files: string[];
  dryRun: boolean;
  fieldManager: string;
  force: boolean;
}

interface Planned {
  manifest: Manifest;
  /** The dry run says the object will be created. */
  creates: boolean;
  /** The live object; undefined if it does not exist or the caller may apply but not read it. */
  current: AnyObject | undefined;
  result: AnyObject;
}

/** The live object, or undefined when the caller may not read it (a delegation may allow Stop but not GetRSpec). */
async function readableObject(context: Context, kind: Kind, name: string): Promise<AnyObject | undefined> {
  try {
    return await context.client.get(kind, name);
  } catch (error) {
    if (error instanceof SlvError && error.reason === 'Forbidden') return undefined;
    throw error;
  }
}

/** Dry-run every manifest on the server (schema, authorization, conflicts) before any is written. */
async function plan(context: Context, manifests: Manifest[], options: { fieldManager: string; force: boolean }): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const manifest of manifests) {
    const { kind, metadata } = manifest.object;
    try {
      const { code, body } = await context.client.apply(manifest.object, { ...options, dryRun: true });
      const creates = code === 201;
      planned.push({ manifest, creates, current: creates ? undefined : await readableObject(context, kind, metadata.name), result: body });
    } catch (error) {
      if (!(error instanceof SlvError)) throw error;
      throw new SlvError(error.reason, `${qualifiedName(kind, metadata.name)} (${manifest.source}): ${error.message}; nothing was applied`, error.causes, { cause: error });
    }
  }
  return planned;
}

function outcome(creates: boolean, current: AnyObject | undefined, result: AnyObject): 'created' | 'configured' | 'unchanged' {
  if (creates) return 'created';
  return result.metadata.resourceVersion === current?.metadata.resourceVersion ? 'unchanged' : 'configured';
}

export async function apply(context: Context, options: ApplyOptions): Promise<void> {
  const planned = await plan(context, loadManifests(options.files), options);
  for (const { manifest, creates, current, result } of planned) {
    const name = qualifiedName(manifest.object.kind, manifest.object.metadata.name);
    if (options.dryRun) {
      context.out.write(`${name} ${outcome(creates, current, result)} (server dry run)\n`);
      continue;
    }
    const applied = await context.client.apply(manifest.object, options);
    context.out.write(`${name} ${outcome(applied.code === 201, current, applied.body)}\n`);
  }
}

/** What diff compares: the object without the server's bookkeeping. */
function comparable(object: AnyObject | undefined): string {
  if (!object) return '';
  const { managedFields: _m, resourceVersion: _r, generation: _g, ...metadata } = object.metadata;
  return yaml().stringify({ ...object, metadata });
}

/** Prints the differences between live objects and what applying would make them; true if any. */
export async function diff(context: Context, options: { files: string[]; fieldManager: string; force: boolean }): Promise<boolean> {
  let different = false;
  for (const { manifest, creates, current, result } of await plan(context, loadManifests(options.files), options)) {
    const name = qualifiedName(manifest.object.kind, manifest.object.metadata.name);
    if (!creates && !current) throw new SlvError('Forbidden', `${name}: you may apply it but not read it, so there is nothing to compare`);
    const text = unifiedDiff(comparable(current), comparable(result), `live/${name}`, `merged/${name}`);
    if (text) {
      different = true;
      context.out.write(text);
    }
  }
  return different;
}

// ---- describe -----------------------------------------------------------------------------------

export async function describe(context: Context, kind: Kind, name: string): Promise<void> {
  const { client } = context;
  const object = await client.get(kind, name);
  const events = (await client.list('Event', { fieldSelector: `spec.involvedObject.kind=${kind},spec.involvedObject.name=${name}` })).items;
  const loans = kind === 'Sliver' ? [...(await client.list('Loan', { fieldSelector: `spec.from=${name}` })).items, ...(await client.list('Loan', { fieldSelector: `spec.to=${name}` })).items] : [];
  context.out.write(describeObject(object, { events, loans: [...new Map(loans.map((l) => [l.metadata.name, l])).values()] }, context.colour));
}

// ---- delete and wait ----------------------------------------------------------------------------

export async function remove(context: Context, kind: Kind, names: string[], options: { wait: boolean; timeoutMs: number }): Promise<void> {
  for (const name of names) {
    const answer = await context.client.delete(kind, name);
    for (const warning of answer.warnings) process.stderr.write(`Warning: ${warning}\n`);
    const label = `${kind.toLowerCase()} "${name}"`;
    if (answer.code === 202 && !options.wait) {
      const finalizers = (answer.body as AnyObject).metadata.finalizers ?? [];
      context.out.write(`${label} is being deleted (waiting for finalizers: ${finalizers.join(', ')})\n`);
      continue;
    }
    if (answer.code === 202) await waitUntil(context.client, kind, name, (o) => o === undefined, options.timeoutMs, 'deletion');
    context.out.write(`${label} deleted\n`);
  }
}

export async function wait(context: Context, kind: Kind, name: string, options: { for: string; timeoutMs: number }): Promise<void> {
  const { predicate, description } = parseFor(options.for);
  await waitUntil(context.client, kind, name, predicate, options.timeoutMs, description);
  context.out.write(`${qualifiedName(kind, name)} ${description === 'deletion' ? 'deleted' : `condition met (${description})`}\n`);
}

// ---- edit ---------------------------------------------------------------------------------------

/** What the editor may be given back to fix: the object or the text is wrong, not the situation. */
function fixable(error: unknown): error is SlvError {
  return error instanceof SlvError && (error.reason === 'Invalid' || error.reason === 'BadRequest');
}

/** The edited text as one object of the same kind and name. */
function editedObject(file: string, text: string, kind: Kind, name: string): AnyObject {
  const edited = parseDocuments(file, text);
  if (edited.length !== 1) throw new InvalidError(`the edited file must hold exactly one object, found ${edited.length}`);
  const object = edited[0]!.object;
  if (object.kind !== kind || object.metadata.name !== name) throw new InvalidError(`kind and metadata.name cannot be changed by edit (${qualifiedName(kind, name)})`);
  return object;
}

/**
 * Opens the object in the editor and updates it when saved. As in kubectl, an invalid edit reopens
 * the editor with the error on top; saving it again unchanged gives up and keeps the file.
 */
export async function edit(context: Context, kind: Kind, name: string, editor: string): Promise<void> {
  const original = forDisplay(await context.client.get(kind, name));
  const dir = mkdtempSync(join(tmpdir(), 'slvctl-edit-'));
  const file = join(dir, `${kind.toLowerCase()}-${name}.yaml`);
  const intro = `# Edit ${qualifiedName(kind, name)}; save and quit to apply, or quit without saving to cancel.\n# Status is the controllers' and is not changed here.\n`;
  let body = yaml().stringify(original);
  // Required here, not imported at start: child_process costs every slvctl start ~8 ms to compile
  // (docs/performance.md). A require, since the bundle runs as a script, where import() is not offered.
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  let problem: string | undefined;
  let keepFile = false;
  try {
    for (;;) {
      const problemText = problem === undefined ? '' : `#\n# The edit was not saved: ${problem.replace(/\n/g, '\n# ')}\n# Fix it and save again, or save unchanged to give up.\n#\n`;
      writeFileSync(file, intro + problemText + body);
      // $EDITOR may carry arguments (`code --wait`), so it runs through the shell with the file as $1.
      const run = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'slvctl-edit', file], { stdio: 'inherit' });
      if (run.status !== 0) throw new UsageError(`the editor "${editor}" failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}); no changes made`);
      // Our comment lines on top are dropped; the rest is what the user wrote.
      const text = readFileSync(file, 'utf8').replace(/^(#.*\n)*/, '');
      if (problem !== undefined && text === body) {
        keepFile = true;
        throw new InvalidError(`${problem}; edit cancelled, your changes are kept in ${file}`);
      }
      body = text;
      try {
        const object = editedObject(file, text, kind, name);
        if (jsonEqual(object, original)) {
          context.out.write('Edit cancelled, no changes made.\n');
          return;
        }
        await context.client.update(object);
        context.out.write(`${qualifiedName(kind, name)} edited\n`);
        return;
      } catch (error) {
        if (!fixable(error)) throw error;
        problem = error.message;
      }
    }
  } finally {
    if (!keepFile) rmSync(dir, { recursive: true, force: true });
  }
}

// ---- loans set ----------------------------------------------------------------------------------

/** `TARGET:RESOURCE:AMOUNT` arguments, validated as SetLoans validates its list. */
export function parseLoanArguments(args: string[]): LoanEntry[] {
  const entries = args.map((arg) => {
    const parts = arg.split(':');
    if (parts.length !== 3 || !/^\d+$/.test(parts[2]!)) throw new UsageError(`invalid loan "${arg}": expected TARGET:RESOURCE:AMOUNT with a whole AMOUNT, e.g. bob:cpu_share:10`);
    return [parts[0], parts[1], Number(parts[2])];
  });
  const loans = parseLoanList(entries);
  if (!loans) {
    const bad = entries.find((e) => parseLoanList([e]) === undefined)!;
    throw new UsageError(`invalid loan "${bad.join(':')}": ${String(bad[1])} cannot be lent (loanable: cpu_min, cpu_share, net_min, net_max, net2_min, net2_max, net_share)`);
  }
  return loans;
}

/**
 * Replace the sliver's loans, as XML-RPC SetLoans does: one transaction on the server (position i
 * is Loan `<sliver>.<i>`). With `waitMs`, then waits (by watch, bounded) until the rspec
 * controller has decided each loan and prints each outcome. Resolves with whether every loan was
 * granted (true when not waiting).
 */
export async function setLoans(context: Context, sliver: string, loans: LoanEntry[], waitMs?: number): Promise<boolean> {
  const replaced = await context.client.replaceLoans(sliver, loans);
  const removed = replaced.status?.removed?.length ?? 0;
  context.out.write(`sliver "${sliver}": ${replaced.spec.loans.length} loan(s) set${removed ? `, ${removed} removed` : ''}\n`);
  const names = replaced.status?.loanNames ?? [];
  if (waitMs === undefined || !names.length) return true;
  const decided = await watchUntil(
    context.client,
    'Loan',
    { fieldSelector: `spec.from=${sliver}` },
    (objects) => {
      const current = names.map((name) => objects.get(name) as Loan | undefined);
      return current.every((loan) => loan && isDecided(loan)) ? { value: current as Loan[] } : undefined;
    },
    waitMs,
    `the controllers to decide the loans of sliver "${sliver}"`,
  );
  const rows = decided.map((loan) => [qualifiedName('Loan', loan.metadata.name), `${loan.spec.to}:${loan.spec.resource}:${loan.spec.amount}`, loanOutcome(loan)]);
  const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) context.out.write(`${row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell)).join('  ')}\n`);
  const refused = decided.filter((loan) => !loan.status?.granted).length;
  if (refused) process.stderr.write(`${context.colour.red('error:')} ${refused} of ${decided.length} loan(s) not granted\n`);
  return refused === 0;
}

/** The rspec controller has written its decision for the loan's current spec. */
function isDecided(loan: Loan): boolean {
  return loan.status?.granted !== undefined && loan.status.observedGeneration === loan.metadata.generation;
}

function loanOutcome(loan: Loan): string {
  if (loan.status?.granted) return 'granted';
  return `not granted: ${loan.status?.reason ?? 'unknown reason'}${loan.status?.message ? ` (${loan.status.message})` : ''}`;
}

// ---- logs ---------------------------------------------------------------------------------------

/** The sliver's init script output; with `follow`, until the script exits, the sliver goes, or slvctl is interrupted. */
export async function logs(context: Context, sliver: string, follow: boolean): Promise<void> {
  await context.client.sliverLog(sliver, { follow }, (text) => context.out.write(text)).done;
}

// ---- version ------------------------------------------------------------------------------------

export async function version(context: Context): Promise<void> {
  context.out.write(`Client Version: ${SLV_VERSION}\n`);
  const server = (await context.client.request<{ version: string; apiVersion: string }>('GET', '/version')).body;
  context.out.write(`Server Version: ${server.version} (${server.apiVersion})\n`);
}
