// The admin-accounts duty (the old node manager's specialaccounts plugin): the ssh keys PLC lists
// for the node's special accounts (root, site_admin; NodeConfig/plc spec.accounts) become their
// authorized_keys. Keys PLC drops are removed with the next answer; without a NodeConfig (no PLC
// answer yet, or PLC unreachable since) the last keys stay.
import { Counter, type Registry } from '../../adapters/support/prometheus.js';
import type { NodeFiles } from '../../adapters/node/posix/node-files.js';
import { NodeError } from '../../resources/errors.js';
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
    const failed: string[] = [];
    for (const [account, keys] of adminAuthorizedKeys(config.spec.accounts)) {
      // One account's broken home must not keep PLC's keys from the other.
      try {
        if (files.writeAuthorizedKeys(account, keys) !== 'written') continue;
      } catch (error) {
        failed.push(account);
        context.events.warning(config, 'AdminKeysFailed', `${account}'s authorized_keys not written: ${(error as Error).message}`);
        continue;
      }
      writes.inc({ account });
      const count = keys === '' ? 0 : keys.split('\n').length - 1;
      context.events.normal(config, 'AdminKeysWritten', `${account}'s authorized_keys now holds ${count} key(s) from PLC`);
    }
    if (failed.length > 0) throw new NodeError(`authorized_keys of ${failed.join(', ')} not written (retrying)`);
  });
}
