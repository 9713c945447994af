// What a child run as another uid needs, staged where that uid can read it. The checkout may be
// unreadable to other users (cloned into a 0700 directory, or under root's home), so such a child
// never runs code or reads files from the checkout: it gets world-readable copies in a temp dir,
// TypeScript bundled into one JavaScript file (npm dependencies included) for /usr/bin/node.
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { LAZY_PACKAGES } from '../../resources/lazy-modules.js';

/** A temp dir other uids can enter (mkdtemp makes it 0700). */
export function worldReadableTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

let processDir: string | undefined;
/** One world-readable temp dir for this test process, removed when the process exits. */
export function processStagingDir(): string {
  if (processDir) return processDir;
  const dir = worldReadableTempDir('slv-staged-');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  processDir = dir;
  return dir;
}

/** Copy `file` into `dir`, readable by everyone; returns the copy's path. */
export function stageFile(file: string | URL, dir: string): string {
  const copy = join(dir, basename(typeof file === 'string' ? file : file.pathname));
  copyFileSync(file, copy);
  chmodSync(copy, 0o644);
  return copy;
}

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Bundle the TypeScript program `source` (its imports relative to the checkout's root) and
 * everything it imports, npm packages too, into `dir/name`: an ES module /usr/bin/node runs as any
 * uid. The packages slv loads on first use (resources/lazy-modules.ts) are copied into
 * `dir/node_modules` with the packages they depend on, where the bundle's require finds them. Native addons are loaded from their packages only when first used, so a program that uses
 * one cannot be staged this way.
 */
export function stageProgram(source: string, dir: string, name: string): string {
  const outfile = join(dir, name);
  buildSync({
    stdin: { contents: source, resolveDir: CHECKOUT, sourcefile: name.replace(/\.m?js$/, '.ts'), loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
    banner: { js: "import { createRequire as slvStagedRequire } from 'node:module'; const require = slvStagedRequire(import.meta.url);" },
  });
  chmodSync(outfile, 0o644);
  for (const name of withDependencies(LAZY_PACKAGES)) cpSync(join(CHECKOUT, 'node_modules', name), join(dir, 'node_modules', name), { recursive: true });
  return outfile;
}

/**
 * `packages` and every package they depend on that npm installed at the top of the checkout's
 * node_modules (one installed inside its dependent's own node_modules is copied with it).
 */
function withDependencies(packages: readonly string[]): Set<string> {
  const found = new Set<string>();
  const visit = (name: string): void => {
    const manifestPath = join(CHECKOUT, 'node_modules', name, 'package.json');
    if (found.has(name) || !existsSync(manifestPath)) return;
    found.add(name);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies?: Record<string, string> };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency);
  };
  packages.forEach(visit);
  return found;
}
