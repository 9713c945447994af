// Installing the managed shells into a root whose /bin is a symlink (merged /usr, as on Debian):
// the root's own links are followed, a link leading out of the root is refused.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installFile, registerShells } from '../../../../adapters/node/posix/shells.js';
import { SKIP_TEST_ROOTS } from '../../../support/test-roots.js';

function tempRoot(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'slv-shells-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a merged-/usr root: /bin/vsh lands in usr/bin and is registered in etc/shells', { skip: SKIP_TEST_ROOTS, timeout: 10_000 }, (t) => {
  const root = tempRoot(t);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('usr/bin', join(root, 'bin'));
  installFile(root, '/bin/vsh', '#!/bin/sh\n', 0o755);
  registerShells(root, ['/bin/vsh']);
  assert.equal(readFileSync(join(root, 'usr/bin/vsh'), 'utf8'), '#!/bin/sh\n');
  assert.equal(readFileSync(join(root, 'etc/shells'), 'utf8'), '/bin/vsh\n');
});

test('a directory link leading out of the root is refused and nothing is written there', { skip: SKIP_TEST_ROOTS, timeout: 10_000 }, (t) => {
  const root = tempRoot(t);
  const outside = tempRoot(t);
  symlinkSync(outside, join(root, 'bin'));
  assert.throws(() => installFile(root, '/bin/vsh', '#!/bin/sh\n', 0o755), new RegExp(`${join(root, 'bin')} leads outside the root ${root} \\(to ${outside}\\)`));
  assert.equal(existsSync(join(outside, 'vsh')), false);
});
