// packaging/: the systemd unit passes systemd-analyze verify (pointed at this checkout), and the
// /etc/slv/slvd.yaml example is a valid config whose socket is where slvctl looks first.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { INSTALLED_API_SOCKET } from '../../../cli/context.js';
import { loadConfigFile, resolveConfig } from '../../../controller/daemon/config.js';
import { tempDir } from '../../support/runtime-helpers.js';

const PACKAGING = fileURLToPath(new URL('../../../packaging/', import.meta.url));
const SLVD = fileURLToPath(new URL('../../../bin/slvd.js', import.meta.url));
const unit = readFileSync(join(PACKAGING, 'slvd.service'), 'utf8');

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('the unit verifies with systemd-analyze', { timeout: 60_000, skip: !hasSystemdAnalyze && 'systemd-analyze is not installed' }, (t) => {
  const dir = tempDir(t, 'slv-unit-');
  const local = join(dir, 'slvd.service');
  writeFileSync(local, unit.replace('/opt/slv/bin/slvd.js', SLVD));
  const result = spawnSync('systemd-analyze', ['verify', local], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr.trim(), '', 'no warnings');
});

test("the unit runs slvd with /etc/slv/slvd.yaml, whose dirs are the unit's and whose socket slvctl finds", { timeout: 30_000 }, () => {
  assert.match(unit, /^ExecStart=\S+slvd\.js --config \/etc\/slv\/slvd\.yaml$/m);
  assert.match(unit, /^RuntimeDirectory=slv$/m);
  assert.match(unit, /^StateDirectory=slv$/m);
  assert.match(unit, /^RestartPreventExitStatus=2 5$/m);
  const file = join(PACKAGING, 'slvd.yaml');
  const config = resolveConfig({}, loadConfigFile(file), file);
  assert.equal(config.apiSocket, INSTALLED_API_SOCKET);
  assert.equal(config.dataDir, '/var/lib/slv');
  assert.equal(config.adapter, 'linux');
});
