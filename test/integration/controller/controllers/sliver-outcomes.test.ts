// What a sliver's status says beyond Ready, through the real runtime, the SQLite store and the sim
// node: the init script's outcome (the sim runs it as setInitscriptResult says) and limits the node
// cannot enforce (setUnenforceable).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sliverStatusWord } from '../../../../resources/sliver-status.js';
import { condition, createSliver, editSliver, removeTempDirs, startDaemon, TEST_TIMEOUT } from '../../../support/controllers-harness.js';
import type { Store } from '../../../../adapters/store/contract.js';

after(removeTempDirs);

const NOT_FOUND = 'starting codeen\n/etc/rc.vinit: 3: exec: /usr/local/codeen/bin/proxy: not found\n';

async function initFailedEvents(store: Store, name: string) {
  return (await store.list('Event')).items.filter((e) => e.spec.reason === 'InitFailed' && e.spec.involvedObject.name === name);
}

test('a failing init script: exit code, time and last output in status, one Warning, STATUS InitFailed, still Ready', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  node.setInitscriptResult('codeen', { exitCode: 127, output: NOT_FOUND });
  await createSliver(store, 'codeen', { initscript: '#!/bin/sh\necho starting codeen\nexec /usr/local/codeen/bin/proxy\n' });
  await daemon.settle();

  const sliver = await store.get('Sliver', 'codeen');
  const init = sliver.status?.initScript;
  assert.equal(init?.exitCode, 127);
  assert.equal(init?.lastOutput, NOT_FOUND.trimEnd());
  assert.ok(init?.startedAt && init.finishedAt, 'start and finish times are recorded');
  assert.equal(condition(sliver, 'InitScript')?.status, 'False');
  assert.equal(condition(sliver, 'InitScript')?.reason, 'InitFailed');
  assert.equal(condition(sliver, 'Ready')?.status, 'True', 'the sliver runs: a failed init script does not make it unready');
  assert.equal(sliverStatusWord(sliver, Date.now()), 'InitFailed');
  const [event] = await initFailedEvents(store, 'codeen');
  assert.equal(event?.spec.type, 'Warning');
  assert.match(event?.spec.message ?? '', /exited with code 127: \/etc\/rc\.vinit: 3: exec: \/usr\/local\/codeen\/bin\/proxy: not found; slvctl logs sliver codeen/);

  // Later reconciles do not report the same run again.
  await editSliver(store, 'codeen', (spec) => ({ ...spec, attributes: { note: 'x' } }));
  await daemon.settle();
  assert.equal((await initFailedEvents(store, 'codeen'))[0]?.spec.count, 1);

  // Fixed and restarted: the new run's outcome replaces the old one.
  node.setInitscriptResult('codeen', { exitCode: 0, output: 'proxy up\n' });
  await editSliver(store, 'codeen', (spec) => ({ ...spec, run: { state: 'Stopped' } }));
  await daemon.settle();
  await editSliver(store, 'codeen', (spec) => ({ ...spec, run: { state: 'Running' } }));
  await daemon.settle();
  const fixed = await store.get('Sliver', 'codeen');
  assert.equal(fixed.status?.initScript?.exitCode, 0);
  assert.equal(fixed.status?.initScript?.lastOutput, 'proxy up');
  assert.equal(condition(fixed, 'InitScript')?.reason, 'Succeeded');
  assert.equal(sliverStatusWord(fixed, Date.now()), 'Running');
});

test('an init script that keeps running is InitScript=True Running; a sliver without one has no InitScript condition', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  node.setInitscriptResult('server', { output: 'serving\n' });
  await createSliver(store, 'server', { initscript: '#!/bin/sh\nexec my-server\n' });
  await createSliver(store, 'plain');
  await daemon.settle();
  const server = await store.get('Sliver', 'server');
  assert.equal(server.status?.initScript?.exitCode, undefined);
  assert.equal(server.status?.initScript?.lastOutput, 'serving');
  assert.equal(condition(server, 'InitScript')?.reason, 'Running');
  assert.equal(sliverStatusWord(server, Date.now()), 'Running');
  const plain = await store.get('Sliver', 'plain');
  assert.equal(plain.status?.initScript, undefined);
  assert.equal(condition(plain, 'InitScript'), undefined);
});

test('limits the node cannot enforce: Ready, STATUS LimitsNotEnforced, one reason per cause, one Warning however often limits are applied', TEST_TIMEOUT, async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.stop());
  const { store, node } = daemon;
  const noLimiter = 'network limits not enforced: no bandwidth limiter is configured on this node';
  node.setUnenforceable(['net_min', 'net_max', 'net2_min', 'net2_max', 'net_share'].map((resource) => ({ resource, reason: noLimiter })));
  await createSliver(store, 'loose');
  await daemon.settle();
  const sliver = await store.get('Sliver', 'loose');
  assert.equal(condition(sliver, 'Ready')?.status, 'True');
  assert.equal(sliverStatusWord(sliver, Date.now()), 'LimitsNotEnforced');
  const message = sliver.status?.conditions?.find((c) => c.type === 'ResourcesApplied')?.message ?? '';
  assert.equal(message.split(noLimiter).length - 1, 1, `the reason is said once: ${message}`);
  assert.match(message, /net_min, net_max, net2_min, net2_max, net_share \(network limits not enforced/);

  // New limits are applied again; the same keys still cannot be enforced: no second Warning.
  await editSliver(store, 'loose', (spec) => ({ ...spec, rspec: { cpu_share: 50 } }));
  await daemon.settle();
  assert.equal(node.inspect('loose')?.limits?.cpu_share, 50, 'the new limits were applied');
  const warnings = (await store.list('Event')).items.filter((e) => e.spec.reason === 'LimitsNotEnforced' && e.spec.involvedObject.name === 'loose');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.spec.type, 'Warning');
  assert.equal(warnings[0]?.spec.count, 1);
});
