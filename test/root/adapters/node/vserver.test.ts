// The vserver node adapter against the stand-in util-vserver toolbox (test/fixtures/vserver-toolbox:
// scripts that record their arguments and keep /etc/vservers-style state under a temp root, with
// real useradd/userdel --prefix for the accounts). No VServer kernel exists here.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeAdapter } from '../../../../adapters/node/index.js';
import { createVServerAdapter, schedArgs, type VServerAdapterOptions } from '../../../../adapters/node/vserver/index.js';
import { BadRequestError, CommandError } from '../../../../resources/errors.js';
import { DEFAULT_RSPEC } from '../../../../resources/rspec.js';
import { runNodeAdapterContract } from '../../../support/node-adapter-contract.js';
import { hostEtcHashes, makeTestRoot, SKIP_TEST_ROOTS, pidsOf, RecordingBandwidthLimiter, removeTestRoots, waitForFile, type TestRoot } from '../../../support/test-roots.js';

after(removeTestRoots);

const TOOLBOX = new URL('../../../fixtures/vserver-toolbox/', import.meta.url).pathname;
const TOOLBOX_COMMANDS = ['vuseradd', 'vuserdel', 'vserver', 'vsched', 'vdlimit'];
const T = { timeout: 30_000, skip: SKIP_TEST_ROOTS };

/** A test root with the stand-in toolbox linked into its /usr/sbin, where a node has util-vserver. */
function standInNode(options: Partial<VServerAdapterOptions> = {}): TestRoot & { adapter: ReturnType<typeof createVServerAdapter> } {
  const node = makeTestRoot('vserver', { loginDefs: true });
  mkdirSync(join(node.root, 'usr/sbin'), { recursive: true, mode: 0o755 });
  for (const command of TOOLBOX_COMMANDS) symlinkSync(join(TOOLBOX, command), join(node.root, 'usr/sbin', command));
  return { ...node, adapter: createVServerAdapter({ root: node.root, ...options }) };
}

/** The toolbox calls recorded so far, each as [command, ...args]. */
function toolboxCalls(root: string): string[][] {
  const log = join(root, 'var/log/vserver-toolbox.log');
  return existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[])
    : [];
}

runNodeAdapterContract('vserver (stand-in toolbox)', async () => standInNode().adapter, { skip: SKIP_TEST_ROOTS, uidChosenFor: ['delegate'] }); // vuseradd picks a sliver's uid

test('stand-in toolbox: a sliver is made with vuseradd, a delegate with useradd; vuserdel removes the guest', T, async (t) => {
  const before = hostEtcHashes();
  const { adapter, root } = standInNode();
  t.after(() => adapter.close());
  const sliver = await adapter.createAccount('pl_alpha', 'sliver');
  const delegate = await adapter.createAccount('del_beta', 'delegate');
  assert.deepEqual(toolboxCalls(root), [['vuseradd', 'pl_alpha']]);
  assert.equal(readFileSync(join(root, 'etc/vservers/pl_alpha/context'), 'utf8').trim(), String(sliver.uid), 'the context id is the uid');
  assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), new RegExp(`^pl_alpha:x:${sliver.uid}:\\d+::/home/pl_alpha:/bin/vsh$`, 'm'));
  assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), new RegExp(`^del_beta:x:${delegate.uid}:\\d+::/home/del_beta:/bin/forward_api_calls$`, 'm'));
  assert.ok(readFileSync(join(root, 'etc/shells'), 'utf8').split('\n').includes('/bin/forward_api_calls'));

  await adapter.destroyAccount('pl_alpha');
  await adapter.destroyAccount('del_beta');
  assert.deepEqual(toolboxCalls(root).slice(1), [['vuserdel', 'pl_alpha']]);
  assert.equal(existsSync(join(root, 'vservers/pl_alpha')), false);
  assert.equal(existsSync(join(root, 'etc/vservers/pl_alpha')), false);
  assert.deepEqual(await adapter.listAccounts(), []);
  assert.deepEqual(hostEtcHashes(), before, 'the host /etc is unchanged');
});

test('stand-in toolbox: the init script is /etc/rc.vinit in the guest, and vserver start runs it as the context', T, async (t) => {
  const { adapter, root } = standInNode();
  t.after(() => adapter.close());
  const { uid } = await adapter.createAccount('pl_alpha', 'sliver');
  const guest = join(root, 'vservers/pl_alpha');
  // The guest's root plants a symlink where rc.vinit goes: it is replaced, not followed.
  const victim = join(root, 'victim');
  writeFileSync(victim, 'untouched\n');
  symlinkSync(victim, join(guest, 'etc/rc.vinit'));
  await adapter.setInitscript('pl_alpha', `#!/bin/sh\nid -u > /tmp/slv-vserver-${uid}.uid\nexec sleep 300\n`);
  assert.equal(readFileSync(victim, 'utf8'), 'untouched\n');
  const script = lstatSync(join(guest, 'etc/rc.vinit'));
  assert.deepEqual([script.isFile(), script.uid, script.mode & 0o777], [true, 0, 0o755]);

  const uidFile = `/tmp/slv-vserver-${uid}.uid`;
  t.after(() => rmSync(uidFile, { force: true }));
  await adapter.start('pl_alpha');
  await adapter.start('pl_alpha');
  assert.equal((await waitForFile(uidFile)).trim(), String(uid));
  assert.equal(await adapter.isRunning('pl_alpha'), true);
  assert.ok(pidsOf(uid).length > 0);
  await adapter.stop('pl_alpha');
  assert.deepEqual(pidsOf(uid), []);
  const starts = toolboxCalls(root).filter((call) => call[0] === 'vserver' && call[2] !== 'running');
  assert.deepEqual(
    starts,
    [
      ['vserver', 'pl_alpha', 'start'],
      ['vserver', 'pl_alpha', 'stop'],
    ],
    'a second start ran nothing',
  );
});

test('stand-in toolbox: limits become vsched (guarantee or share), vdlimit in KiB and bwlimit by xid', T, async (t) => {
  const bandwidth = new RecordingBandwidthLimiter();
  const { adapter, root } = standInNode({ bandwidth });
  t.after(() => adapter.close());
  const { uid } = await adapter.createAccount('pl_alpha', 'sliver');
  const config = join(root, 'etc/vservers/pl_alpha');
  const sched = () => [readFileSync(join(config, 'sched/fill-rate'), 'utf8').trim(), readFileSync(join(config, 'sched/interval'), 'utf8').trim(), existsSync(join(config, 'sched/idle-time'))];

  const report = await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_share: 64, disk_max: 123456, net_max: 2_000_000 });
  assert.deepEqual(report, { applied: ['enabled', 'cpu_min', 'cpu_share', 'net_min', 'net_max', 'net2_min', 'net2_max', 'net_share', 'disk_max'], unsupported: [] });
  assert.deepEqual(sched(), ['64', '1000', true], 'a share: fill rate = share, idle time allowed');
  assert.equal(readFileSync(join(config, 'dlimits/0/space_total'), 'utf8').trim(), '123456');
  assert.deepEqual(bandwidth.classes.get(uid), { net_min: 8, net_max: 2_000_000, net2_min: 8, net2_max: 1_000_000_000, net_share: 1 });
  assert.deepEqual(
    toolboxCalls(root).filter((call) => call[0] === 'vsched' || call[0] === 'vdlimit'),
    [
      ['vsched', '--xid', String(uid), '--fill-rate', '64', '--interval', '1000', '--idle-time'],
      ['vdlimit', '--xid', String(uid), '--set', 'space_total=123456', join(root, 'vservers/pl_alpha')],
    ],
  );

  await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, cpu_min: 300 });
  assert.deepEqual(sched(), ['300', '1000', false], 'a guarantee: 300 ms per second, hard');

  await adapter.start('pl_alpha');
  await adapter.applyLimits('pl_alpha', { ...DEFAULT_RSPEC, enabled: 0 });
  assert.deepEqual(sched(), ['0', '1000', false], 'disabled: no CPU');
  assert.equal(await adapter.isRunning('pl_alpha'), false, 'disabled: stopped');
  assert.equal(
    readFileSync(join(root, 'etc/shadow'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('pl_alpha:'))
      ?.split(':')[7],
    '1',
    'disabled: login refused',
  );

  await adapter.destroyAccount('pl_alpha');
  assert.equal(bandwidth.classes.size, 0);
});

test('stand-in toolbox: a failing command is a CommandError quoting it and its stderr; delegates have no vserver', T, async (t) => {
  const { adapter, root } = standInNode();
  t.after(() => adapter.close());
  await adapter.createAccount('pl_alpha', 'sliver');
  rmSync(join(root, 'etc/vservers/pl_alpha'), { recursive: true }); // the toolbox no longer knows it
  await assert.rejects(
    adapter.start('pl_alpha'),
    (e: unknown) => e instanceof CommandError && e.message === `command failed: ${join(root, 'usr/sbin/vserver')} pl_alpha start (exit 1): vserver: vserver 'pl_alpha' does not exist`,
  );
  await adapter.createAccount('del_beta', 'delegate');
  await assert.rejects(adapter.start('del_beta'), BadRequestError);
  await assert.rejects(adapter.setInitscript('del_beta', 'x'), /"del_beta" is a delegate account: it has no vserver/);

  const missing = createVServerAdapter({ root, commandDir: join(root, 'nowhere') });
  await assert.rejects(
    missing.createAccount('pl_gamma', 'sliver'),
    (e: unknown) => e instanceof CommandError && e.message.includes(`${join(root, 'nowhere/vuseradd')} pl_gamma: `) && /ENOENT/.test(e.message),
  );
  assert.equal(await missing.getAccount('pl_gamma'), undefined);
});

test('vsched arguments for guarantee, share and disabled', { timeout: 5_000 }, () => {
  assert.deepEqual(schedArgs(7, { enabled: 1, cpu_min: 0, cpu_share: 32 }), ['--xid', '7', '--fill-rate', '32', '--interval', '1000', '--idle-time']);
  assert.deepEqual(schedArgs(7, { enabled: 1, cpu_min: 49, cpu_share: 16 }), ['--xid', '7', '--fill-rate', '16', '--interval', '1000', '--idle-time']);
  assert.deepEqual(schedArgs(7, { enabled: 1, cpu_min: 50, cpu_share: 16 }), ['--xid', '7', '--fill-rate', '50', '--interval', '1000']);
  assert.deepEqual(schedArgs(7, { enabled: 0, cpu_min: 500, cpu_share: 16 }), ['--xid', '7', '--fill-rate', '0', '--interval', '1000']);
});

test('createNodeAdapter("vserver") drives the toolbox under the given root', T, async (t) => {
  const { root } = standInNode();
  const adapter = await createNodeAdapter('vserver', { dataDir: join(root, '..', 'data'), root });
  t.after(() => adapter.close());
  assert.equal(adapter.kind, 'vserver');
  await adapter.createAccount('pl_alpha', 'sliver');
  assert.deepEqual(toolboxCalls(root), [['vuseradd', 'pl_alpha']]);
  assert.deepEqual(readdirSync(join(root, 'vservers')), ['pl_alpha']);
  assert.ok(statSync(join(root, 'home/pl_alpha')).isDirectory());
});
