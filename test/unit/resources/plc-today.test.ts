// Today's GetSlivers answer (PLCAPI 5) converted as today's node manager reads it (docs/plc.md):
// the form detected, tags mapped to slv's rspec, init scripts resolved, node-level data kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_RSPEC } from '../../../resources/rspec.js';
import { answerForm, parseGetSlivers, type PlcRecord } from '../../../resources/plc-records.js';
import { cpuCoresFromTag, parsePy3Float, parsePy3Int, rspecFromTags } from '../../../resources/plc-tags.js';
import { GETSLIVERS_TODAY_SAMPLE_URL } from '../../support/reference-vectors.js';

const today = JSON.parse(readFileSync(GETSLIVERS_TODAY_SAMPLE_URL, 'utf8')) as Record<string, unknown> & { slivers: Array<Record<string, unknown>> };

function byName(records: PlcRecord[]): Map<string, PlcRecord> {
  return new Map(records.map((r) => [r.name, r]));
}

test("today's sample: two Slivers and a Delegate, as today's node manager computes them", () => {
  const answer = parseGetSlivers(today);
  assert.equal(answer.form, 'today');
  assert.equal(answer.updates.length, 1);
  const [update] = answer.updates;
  assert.deepEqual(update?.skipped, []);
  assert.deepEqual(answer.skippedNodeEntries, []);
  const records = byName(update?.records ?? []);
  assert.deepEqual(records.get('princeton_codeen'), {
    kind: 'Sliver',
    name: 'princeton_codeen',
    spec: {
      type: 'sliver.LXC',
      instantiation: 'plc-instantiated',
      keys: ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABExample1 user@princeton'],
      initscript: '#!/bin/sh\nexec /usr/local/codeen/bin/proxy\n',
      rspec: { ...DEFAULT_RSPEC, cpu_share: 64, net_max: 20_000_000 },
      delegations: [],
      timestamp: 1764000000,
      attributes: { cpu_share: '64', net_max_rate: '20000', vref: 'lxc-f37', initscript: 'codeen' },
      expires: 1767225600,
      extra: { slice_id: 1101, GetSliceFamily: 'lxc-f37-x86_64' },
      vref: 'lxc-f37-x86_64',
    },
  });
  const render = records.get('3dlab_render');
  assert.ok(render?.kind === 'Sliver', 'a login base starting with a digit is accepted');
  assert.deepEqual(render.spec.rspec, { ...DEFAULT_RSPEC, cpu_min: 250, disk_max: 20_000_000 });
  assert.equal(render.spec.initscript, '#!/bin/sh\necho ready\n');
  assert.deepEqual(render.spec.keys, []);
  const netflow = records.get('pl_netflow');
  assert.deepEqual(netflow, {
    kind: 'Delegate',
    name: 'pl_netflow',
    spec: {
      keys: ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABExample2 ops@plc'],
      timestamp: 1764000000,
      instantiation: 'nm-controller',
      attributes: { system: '1' },
      extra: { slice_id: 1003, GetSliceFamily: 'lxc-f37-x86_64' },
    },
  });
});

test("today's sample: the node-level data becomes the NodeConfig spec", () => {
  assert.deepEqual(parseGetSlivers(today).nodeConfig, {
    timestamp: 1764000000,
    nodeId: 42,
    hostname: 'node42.example.org',
    bandwidthCap: 100_000_000,
    accounts: [
      { name: 'root', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleRootKey admin@site'] },
      { name: 'site_admin', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleTechKey tech@site'] },
    ],
    confFiles: [
      {
        dest: '/etc/sysctl.d/90-planetlab.conf',
        source: 'PlanetLabConf/sysctl.conf',
        permissions: '644',
        owner: 'root',
        group: 'root',
        preinstallCmd: '',
        postinstallCmd: '/sbin/sysctl --system',
        errorCmd: '',
        ignoreCmdErrors: false,
        alwaysUpdate: false,
      },
    ],
    reservationPolicy: 'lease_or_idle',
    leases: [
      { sliceId: 1101, sliver: 'princeton_codeen', from: 1764003600, until: 1764007200 },
      { sliceId: 1207, sliver: '3dlab_render', from: 1764007200, until: 1764010800 },
    ],
    leaseGranularity: 3600,
    groups: ['lxc-nodes'],
  });
});

test('the form is told per answer', () => {
  assert.equal(answerForm(today), 'today');
  assert.equal(answerForm([today]), '2006', 'a list is the 2006 form');
  assert.equal(answerForm({ timestamp: 1, slivers: [{ name: 'a_b', attributes: [{ tagname: 'x', value: '1' }] }] }), 'today', 'tagname attributes alone');
  assert.equal(answerForm({ timestamp: 1, slivers: [{ name: 'a_b', attributes: [{ name: 'x', value: '1' }] }] }), '2006');
  // In today's form an attribute keyed by name is a bad record, not a silently empty one.
  const { updates } = parseGetSlivers({ timestamp: 1, initscripts: [], slivers: [{ name: 'a_b', attributes: [{ name: 'cpu_share', value: '5' }] }] });
  assert.match(updates[0]?.skipped[0]?.reason ?? '', /slivers\[0\]\.attributes\[0\]: must be a struct with a string tagname/);
});

test("tags: rates in kbit/s become bit/s, cpu_pct a guarantee in thousandths, Python 3 parsing; bad values keep slv's default", () => {
  assert.deepEqual(rspecFromTags({ net_min_rate: '8', net_max_rate: '1.9e3', net_i2_min_rate: ' 16 ', net_i2_max_rate: '2_000', cpu_pct: '5', net_share: '3', enabled: '0', cpu_share: '-2' }), {
    ...DEFAULT_RSPEC,
    net_min: 8000,
    net_max: 1_900_000,
    net2_min: 16_000,
    net2_max: 2_000_000,
    cpu_min: 50,
    net_share: 3,
    enabled: 0,
    cpu_share: -2,
  });
  // Python 3's int() refuses these (so the node manager kept its default); float() refuses inf for bwmon's int().
  assert.deepEqual(rspecFromTags({ cpu_share: '1.5', cpu_pct: '- 5', disk_max: '1__0', net_max_rate: 'inf', net_min_rate: 'x', enabled: '' }), { ...DEFAULT_RSPEC });
  assert.equal(rspecFromTags({ net_max_rate: '0.9' }).net_max, 0, 'bwmon truncates with int() before scaling');
  assert.equal(parsePy3Int('\u3000 +7_5 \n'), 75);
  assert.equal(parsePy3Int('7_'), undefined);
  assert.equal(parsePy3Int('99999999999999999999'), undefined);
  assert.equal(parsePy3Float('.5'), 0.5);
  assert.equal(parsePy3Float('5.'), 5);
  assert.equal(parsePy3Float('nan'), undefined);
  assert.equal(parsePy3Float('1e400'), undefined);
});

test('cpu_cores: a count with an optional b for best effort; an unreadable count is 0', () => {
  assert.deepEqual(cpuCoresFromTag('2'), { count: 2, bestEffort: false });
  assert.deepEqual(cpuCoresFromTag('3b'), { count: 3, bestEffort: true });
  assert.deepEqual(cpuCoresFromTag('0b'), { count: 0, bestEffort: true });
  assert.deepEqual(cpuCoresFromTag('lots'), { count: 0, bestEffort: false });
  assert.deepEqual(cpuCoresFromTag('-1'), { count: 0, bestEffort: false });
  const [update] = parseGetSlivers({ ...today, slivers: [{ name: 'a_b', attributes: [{ tagname: 'cpu_cores', value: '2b' }] }] }).updates;
  const record = update?.records[0];
  assert.ok(record?.kind === 'Sliver');
  assert.deepEqual(record.spec.cpuCores, { count: 2, bestEffort: true });
});

test('init scripts: initscript_code wins, else the named entry of initscripts, else none; type from the type tag', () => {
  const initscripts = [
    { initscript_id: 1, name: 'boot', enabled: true, script: 'echo boot' },
    { initscript_id: 2, name: 'off', enabled: false, script: 'echo off' },
  ];
  const slivers = [
    {
      name: 'a_code',
      attributes: [
        { tagname: 'initscript', value: 'boot' },
        { tagname: 'initscript_code', value: 'echo code' },
      ],
    },
    {
      name: 'a_named',
      attributes: [
        { tagname: 'initscript', value: 'boot' },
        { tagname: 'type', value: 'sliver.VServer' },
      ],
    },
    { name: 'a_unknown', attributes: [{ tagname: 'initscript', value: 'missing' }] },
    { name: 'a_disabled', attributes: [{ tagname: 'initscript', value: 'off' }] },
  ];
  const [update] = parseGetSlivers({ timestamp: 1, initscripts, slivers }).updates;
  const specs = new Map(update?.records.map((r) => [r.name, r.kind === 'Sliver' ? r.spec : undefined]));
  assert.equal(specs.get('a_code')?.initscript, 'echo code');
  assert.equal(specs.get('a_named')?.initscript, 'echo boot');
  assert.equal(specs.get('a_named')?.type, 'sliver.VServer');
  assert.equal(specs.get('a_unknown')?.initscript, '');
  assert.equal(specs.get('a_disabled')?.initscript, '');
});

test('attributes: a later tag of the same name wins; unknown tags are kept and never an error', () => {
  const attributes = [
    { tagname: 'cpu_share', value: '10' },
    { tagname: 'cpu_share', value: '20' },
    { tagname: 'sysctl.net.ipv4.ip_forward', value: '1' },
    { tagname: 'net_max_kbyte', value: '5000' },
    { tagname: 'brand_new_tag', value: 'anything' },
  ];
  const [update] = parseGetSlivers({ timestamp: 1, initscripts: [], slivers: [{ name: 'a_b', attributes }] }).updates;
  const record = update?.records[0];
  assert.ok(record?.kind === 'Sliver');
  assert.equal(record.spec.rspec.cpu_share, 20);
  assert.deepEqual(record.spec.attributes, { cpu_share: '20', 'sysctl.net.ipv4.ip_forward': '1', net_max_kbyte: '5000', brand_new_tag: 'anything' });
});

test('node-level entries stand on their own: a bad one is skipped with the reason, the rest kept', () => {
  const answer = parseGetSlivers({
    ...today,
    interfaces: [
      { is_primary: false, bwlimit: 5_000 },
      { is_primary: true, bwlimit: null },
    ],
    conf_files: [
      { dest: 'relative/path', source: 'x' },
      { enabled: false, dest: '/etc/off', source: 'y' },
      { dest: '/etc/ok', source: 'z', file_permissions: '600', preinstall_cmd: null },
    ],
    accounts: [{ name: 'root', keys: ['ssh-ed25519 AAAA bare@key'] }, { keys: [] }],
    leases: null,
    reservation_policy: 'sometimes',
    lease_granularity: 'hourly',
  });
  const config = answer.nodeConfig;
  assert.equal(config?.bandwidthCap, undefined, 'no primary interface with a bwlimit: no cap');
  assert.deepEqual(
    config?.confFiles.map((f) => [f.dest, f.permissions, f.preinstallCmd]),
    [['/etc/ok', '600', '']],
  );
  assert.deepEqual(config?.accounts, [{ name: 'root', keys: ['ssh-ed25519 AAAA bare@key'] }]);
  assert.deepEqual(config?.leases, []);
  assert.equal(config?.reservationPolicy, 'none');
  assert.equal(config?.leaseGranularity, 3600, "a bad granularity: the node manager's hour");
  assert.deepEqual(
    answer.skippedNodeEntries.map((entry) => entry.path),
    ['accounts[1]', 'conf_files[0]', 'reservation_policy', 'lease_granularity'],
  );
  assert.match(answer.skippedNodeEntries[1]?.reason ?? '', /conf_files\[0\]\.dest: must be an absolute path/);
  assert.equal(answer.updates[0]?.records.length, 3, 'the slivers are unaffected');
});
