// Files slv ships beside its code (examples/, native/, data/): found from the checkout's root, which
// is one level above this file as source (resources/checkout.ts, run through tsx) and two once
// compiled (dist/resources/checkout.js) or bundled (dist/bundle/slvctl.cjs, see scripts/build.mjs).
import { fileURLToPath } from 'node:url';

const CHECKOUT_ROOT = new URL(import.meta.url.endsWith('.ts') ? '../' : '../../', import.meta.url);

/** The absolute path of `relative` (slash-separated) under the checkout's root. */
export function checkoutPath(relative: string): string {
  return fileURLToPath(new URL(relative, CHECKOUT_ROOT));
}
