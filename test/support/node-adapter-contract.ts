// The node-adapter contract (adapters/node/contract.ts) as one suite that every adapter runs: sim, linux and
// vserver call runNodeAdapterContract with a factory for a fresh, empty node. It checks only what
// the NodeAdapter interface shows; each adapter's own tests check what it leaves on the node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError } from '../../resources/errors.js';
import { DEFAULT_RSPEC } from '../../resources/rspec.js';
import { RSPEC_KEYS } from '../../schemas/types.js';
import type { AccountClass, NodeAdapter } from '../../adapters/node/contract.js';

export interface ContractOptions {
  /** Skip the whole suite, saying why (e.g. not root); false runs it. */
  skip?: string | false;
  /** Per-test timeout (default 30 s). */
  timeoutMs?: number;
  /** The account classes whose uid the adapter chooses, so it can give a name its uid back (default both). */
  uidChosenFor?: AccountClass[];
}

/** A fresh node for each test; the suite closes the adapter it gets. */
export type NodeFactory = () => Promise<NodeAdapter>;

const INIT_SCRIPT = '#!/bin/sh\nexec sleep 300\n';

export function runNodeAdapterContract(name: string, factory: NodeFactory, options: ContractOptions = {}): void {
  const testOptions = { timeout: options.timeoutMs ?? 30_000, ...(options.skip ? { skip: options.skip } : {}) };

  // One fresh node per test, closed after it whatever happens.
  const withNode = (title: string, body: (node: NodeAdapter) => Promise<void>) =>
    test(title, testOptions, async () => {
      const node = await factory();
      try {
        await body(node);
      } finally {
        await node.close();
      }
    });

  describe(`node adapter contract: ${name}`, () => {
    withNode('a new node lists no managed accounts and resolves root by uid', async (node) => {
      assert.deepEqual(await node.listAccounts(), []);
      assert.equal(await node.accountNameByUid(0), 'root');
      assert.equal(await node.getAccount('nobody_here'), undefined);
    });

    withNode('createAccount gives a uid and keeps the class; repeating it returns the same account', async (node) => {
      const sliver = await node.createAccount('pl_alpha', 'sliver', 'sliver.VServer');
      const delegate = await node.createAccount('del_beta', 'delegate');
      assert.equal(sliver.name, 'pl_alpha');
      assert.equal(sliver.class, 'sliver');
      assert.equal(delegate.class, 'delegate');
      assert.ok(Number.isInteger(sliver.uid) && sliver.uid > 0, `uid ${sliver.uid} is a positive integer`);
      assert.notEqual(sliver.uid, delegate.uid);
      if (sliver.type !== undefined) assert.equal(sliver.type, 'sliver.VServer', 'a type the adapter reports is the one given');
      assert.deepEqual(await node.createAccount('pl_alpha', 'sliver', 'sliver.VServer'), sliver);
      assert.deepEqual(await node.getAccount('pl_alpha'), sliver);
      assert.deepEqual(await node.getAccount('del_beta'), delegate);
    });

    withNode('an account of another class, or a system account, is a conflict', async (node) => {
      await node.createAccount('pl_alpha', 'sliver');
      await assert.rejects(node.createAccount('pl_alpha', 'delegate'), ConflictError);
      await assert.rejects(node.createAccount('root', 'sliver'), ConflictError);
      assert.deepEqual(
        (await node.listAccounts()).map((a) => a.name),
        ['pl_alpha'],
      );
    });

    withNode('listAccounts and accountNameByUid see every managed account', async (node) => {
      const created = [await node.createAccount('pl_one', 'sliver'), await node.createAccount('pl_two', 'sliver'), await node.createAccount('del_three', 'delegate')];
      const listed = await node.listAccounts();
      assert.deepEqual(listed.map((a) => [a.name, a.uid, a.class]).sort(), created.map((a) => [a.name, a.uid, a.class]).sort());
      for (const account of created) assert.equal(await node.accountNameByUid(account.uid), account.name);
    });

    withNode('an account destroyed and created again under its name gets its uid back; a new name gets a new uid', async (node) => {
      for (const accountClass of options.uidChosenFor ?? ['sliver', 'delegate']) {
        const name = `pl_again_${accountClass}`;
        const first = await node.createAccount(name, accountClass);
        await node.destroyAccount(name);
        const other = await node.createAccount(`pl_other_${accountClass}`, accountClass);
        assert.notEqual(other.uid, first.uid, 'a new name does not take a remembered uid');
        const again = await node.createAccount(name, accountClass);
        assert.equal(again.uid, first.uid, `${accountClass} ${name} has its uid back`);
      }
    });

    withNode('every per-account operation on a missing account is NotFound', async (node) => {
      const missing = 'pl_missing';
      await assert.rejects(node.setKeys(missing, ['ssh-ed25519 AAAA x']), NotFoundError);
      await assert.rejects(node.setInitscript(missing, INIT_SCRIPT), NotFoundError);
      await assert.rejects(node.start(missing), NotFoundError);
      await assert.rejects(node.stop(missing), NotFoundError);
      await assert.rejects(node.isRunning(missing), NotFoundError);
      await assert.rejects(node.applyLimits(missing, { ...DEFAULT_RSPEC }), NotFoundError);
    });

    withNode('keys and the init script can be set, replaced and cleared', async (node) => {
      await node.createAccount('pl_alpha', 'sliver');
      await node.setKeys('pl_alpha', ['ssh-ed25519 AAAAone a@x', 'ssh-rsa AAAAtwo b@y']);
      await node.setKeys('pl_alpha', ['ssh-ed25519 AAAAone a@x', 'ssh-rsa AAAAtwo b@y']);
      await node.setKeys('pl_alpha', []);
      await node.setInitscript('pl_alpha', INIT_SCRIPT);
      await node.setInitscript('pl_alpha', INIT_SCRIPT);
      await node.setInitscript('pl_alpha', '');
      await node.setInitscript('pl_alpha', '');
    });

    withNode('start runs the sliver, a second start is a no-op, stop stops it', async (node) => {
      await node.createAccount('pl_alpha', 'sliver');
      await node.setInitscript('pl_alpha', INIT_SCRIPT);
      assert.equal(await node.isRunning('pl_alpha'), false, 'a new sliver is not running');
      await node.start('pl_alpha');
      assert.equal(await node.isRunning('pl_alpha'), true);
      await node.start('pl_alpha');
      assert.equal(await node.isRunning('pl_alpha'), true);
      await node.stop('pl_alpha');
      assert.equal(await node.isRunning('pl_alpha'), false);
      await node.stop('pl_alpha');
      assert.equal(await node.isRunning('pl_alpha'), false);
    });

    withNode('applyLimits accounts for every rspec key once, also for a disabled sliver', async (node) => {
      await node.createAccount('pl_alpha', 'sliver');
      const report = await node.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_min: 100 });
      const keys = [...report.applied, ...report.unsupported.map((u) => u.resource)];
      assert.deepEqual([...keys].sort(), [...RSPEC_KEYS].sort(), 'each key is either applied or unsupported, once');
      for (const entry of report.unsupported) assert.ok(entry.reason.length > 0, `${entry.resource} says why it is unsupported`);
      assert.deepEqual(await node.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_min: 100 }), report, 'applying again reports the same');
      const disabled = await node.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, enabled: 0 });
      assert.ok(disabled.applied.includes('enabled'), 'disabling is always enforced');
    });

    withNode('destroyAccount removes a running account, is idempotent, and the name can be reused', async (node) => {
      const first = await node.createAccount('pl_alpha', 'sliver');
      await node.setInitscript('pl_alpha', INIT_SCRIPT);
      await node.start('pl_alpha');
      await node.destroyAccount('pl_alpha');
      await node.destroyAccount('pl_alpha');
      await node.destroyAccount('pl_never_existed');
      assert.equal(await node.getAccount('pl_alpha'), undefined);
      assert.deepEqual(await node.listAccounts(), []);
      assert.equal(await node.accountNameByUid(first.uid), undefined);
      const again = await node.createAccount('pl_alpha', 'delegate');
      assert.equal(again.class, 'delegate');
      assert.equal(await node.accountNameByUid(again.uid), 'pl_alpha');
    });
  });
}
