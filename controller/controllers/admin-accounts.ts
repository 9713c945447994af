// The admin-accounts duty (the old node manager's specialaccounts plugin): the ssh keys PLC lists
// for the node's special accounts (root, site_admin; NodeConfig/plc spec.accounts) become their
// authorized_keys. Keys PLC drops are removed with the next answer; without a NodeConfig (no PLC
// answer yet, or PLC unreachable since) the last keys stay.
import { Counter, type Registry } from 'prom-client';
import type { NodeFiles } from '../../adapters/node/posix/node-files.js';
import { adminAuthorizedKeys } from '../../resources/node-duties.js';
import type { Reconciler } from '../runtime/types.js';
import { nodeConfigDuty } from './node-config.js';

export interface AdminAccountsControllerOptions {
  files: NodeFiles;
  registry: Registry;
}

export function createAdminAccountsController({ files, registry }: AdminAccountsControllerOptions): Reconciler {
  const writes = new Counter({ name: 'slv_admin_keys_writes_total', help: "authorized_keys files of admin accounts rewritten with PLC's keys", labelNames: ['account'], registers: [registry] });
  return nodeConfigDuty('admin-accounts', async (config, context) => {
    for (const [account, keys] of adminAuthorizedKeys(config.spec.accounts)) {
      if (files.writeAuthorizedKeys(account, keys) !== 'written') continue;
      writes.inc({ account });
      const count = keys === '' ? 0 : keys.split('\n').length - 1;
      context.events.normal(config, 'AdminKeysWritten', `${account}'s authorized_keys now holds ${count} key(s) from PLC`);
    }
  });
}
