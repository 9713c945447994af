// The shared node-adapter contract against the sim adapter (a fresh data dir per test).
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimAdapter } from '../../../../adapters/node/sim/index.js';
import { runNodeAdapterContract } from '../../../support/node-adapter-contract.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

runNodeAdapterContract('sim', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slv-sim-contract-'));
  dirs.push(dir);
  return createSimAdapter({ dataDir: dir });
});
