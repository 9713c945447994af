// slvd's configuration: defaults < config file < flags, path resolution, validation messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULTS, EXAMPLE_PLC_FILE, loadConfigFile, parseCommandLine, resolveConfig } from '../../../../controller/daemon/config.js';
import { UsageError } from '../../../../resources/errors.js';
import { tempDir } from '../../../support/runtime-helpers.js';

function flags(argv: string[]) {
  const parsed = parseCommandLine(argv);
  assert.ok(!('print' in parsed));
  return parsed;
}

test("embedded defaults: sim adapter, ./data, the example GetSlivers file, the API socket in the data dir, XML-RPC in a root-owned directory and the original's endpoints", () => {
  const config = resolveConfig(flags([]).flags);
  assert.equal(config.dataDir, resolve('./data'));
  assert.equal(config.adapter, 'sim');
  assert.deepEqual(config.plc, { kind: 'file', path: EXAMPLE_PLC_FILE });
  assert.equal(config.apiSocket, resolve('./data/api.sock'));
  if (process.getuid?.() === 0) {
    assert.equal(config.xmlrpcSocket, '/run/slv/sliver_mgr.api');
    assert.equal(config.xmlrpcLegacySocket, '/tmp/sliver_mgr.api');
  } else {
    assert.equal(config.xmlrpcSocket, resolve('./data/sliver_mgr.api'));
    assert.equal(config.xmlrpcLegacySocket, undefined);
  }
  assert.equal(resolveConfig(flags(['--xmlrpc-legacy-socket', 'none']).flags).xmlrpcLegacySocket, undefined);
  assert.equal(resolveConfig(flags(['--xmlrpc-legacy-socket', 'old.api']).flags).xmlrpcLegacySocket, resolve('old.api'));
  assert.equal(config.xmlrpcPort, 812);
  assert.equal(config.xmlrpcPortExplicit, false);
  assert.equal(resolveConfig(flags(['--xmlrpc-port', '812']).flags).xmlrpcPortExplicit, true);
  assert.equal(config.apiPort, 0, 'the REST API is on TCP only when asked');
  assert.equal(resolveConfig(flags(['--api-port', '6443']).flags).apiPort, 6443);
  assert.equal(config.periodSeconds, DEFAULTS.periodSeconds);
  assert.equal(config.startup, false);
});

test('the file overrides defaults with paths relative to itself; flags override the file', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'slvd.yaml');
  writeFileSync(file, 'dataDir: state\nplc: http://plc.example.org/PLCAPI/\nplcAuth: {AuthMethod: session, session: abc}\nperiod: 30\nstartup: true\nlogLevel: debug\n');
  const parsed = flags(['--config', file, '--period', '5', '--plc-file', 'answer.json', '-s']);
  const config = resolveConfig(parsed.flags, loadConfigFile(file), parsed.configFile);
  assert.equal(config.dataDir, join(dir, 'state'));
  assert.equal(config.apiSocket, join(dir, 'state', 'api.sock'));
  assert.equal(config.periodSeconds, 5);
  assert.equal(config.startup, true);
  assert.equal(config.logLevel, 'debug');
  assert.deepEqual(config.plc, { kind: 'file', path: resolve('answer.json') }, "a PLC flag replaces the file's PLC of either kind");
  assert.equal(config.configFile, file);

  const fromFile = resolveConfig({}, loadConfigFile(file));
  assert.deepEqual(fromFile.plc, {
    kind: 'url',
    url: 'http://plc.example.org/PLCAPI/',
    allowHttp: false,
    auth: { kind: 'struct', struct: { AuthMethod: 'session', session: 'abc' } },
    timeoutMs: 30_000,
  });
});

test('node authentication: id, key file, boot file and CA from flags or the file; plcAuth replaces it', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'slvd.yaml');
  writeFileSync(file, 'plc: https://plc.example.org/PLCAPI/\nplcCacert: plc-ca.pem\nnodeKeyFile: node.key\njitter: 10\n');
  const parsed = flags(['--config', file, '--node-id', '42', '--boot-file', 'plnode.txt']);
  const config = resolveConfig(parsed.flags, loadConfigFile(file), parsed.configFile);
  assert.deepEqual(config.plc, {
    kind: 'url',
    url: 'https://plc.example.org/PLCAPI/',
    cacert: join(dir, 'plc-ca.pem'),
    allowHttp: false,
    auth: { kind: 'node', nodeId: 42, keyFile: join(dir, 'node.key'), bootFile: resolve('plnode.txt') },
    timeoutMs: 30_000,
  });
  assert.equal(config.jitterSeconds, 10);
  const byDefault = resolveConfig(flags(['--plc', 'https://plc.example.org/PLCAPI/']).flags);
  assert.deepEqual(byDefault.plc.kind === 'url' && byDefault.plc.auth, { kind: 'node', bootFile: '/usr/boot/plnode.txt' });
  assert.equal(byDefault.jitterSeconds, DEFAULTS.jitterSeconds);
  const allowed = resolveConfig(flags(['--plc', 'http://plc/', '--plc-allow-http']).flags).plc;
  assert.ok(allowed.kind === 'url' && allowed.allowHttp);
  writeFileSync(file, 'plc: https://plc/\nplcAuth: {AuthMethod: anonymous}\n');
  assert.throws(() => resolveConfig(flags(['--node-id', '3']).flags, loadConfigFile(file)), /plcAuth replaces node authentication: drop nodeId or plcAuth/);
  assert.throws(() => flags(['--node-id', '0']), /--node-id must be a PLC node_id/);
});

test('invalid settings are refused naming them', (t) => {
  const dir = tempDir(t);
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const usage = (fn: () => unknown, message: RegExp) => assert.throws(fn, (e: Error) => e instanceof UsageError && message.test(e.message));
  usage(() => loadConfigFile(write('a.yaml', 'xmlrpcPort: 70000\n')), /xmlrpcPort must be <= 65535/);
  usage(() => loadConfigFile(write('b.yaml', 'plc: ftp://plc\n')), /plc must match pattern/);
  usage(() => loadConfigFile(write('c.yaml', 'dataDir: [1\n')), /is not valid YAML/);
  usage(() => loadConfigFile(write('d.yaml', '- a\n- b\n')), /must be object/);
  usage(() => loadConfigFile(join(dir, 'absent.yaml')), /cannot read config file/);
  usage(() => resolveConfig({}, loadConfigFile(write('e.yaml', 'plc: http://a/\nplcFile: x.json\n'))), /sets more than one of plc, plcFile and noPlc/);
  usage(() => parseCommandLine(['--adapter', 'xen']), /Allowed choices are sim, linux, vserver, lxc/);
  usage(() => parseCommandLine(['--xmlrpc-port', '1.5']), /--xmlrpc-port expects a non-negative integer/);
  usage(() => parseCommandLine(['--api-port', '70000']), /--api-port 70000 is not a port/);
  usage(() => loadConfigFile(write('f.yaml', 'apiPort: -1\n')), /apiPort must be >= 0/);
  usage(() => parseCommandLine(['--period', '0']), /--period must be more than 0/);
  usage(() => parseCommandLine(['extra']), /too many arguments/);
  assert.match((parseCommandLine(['--help']) as { print: string }).print, /--plc-file <file>/);
});

test('linux adapter settings: cgroupParent, uidRange and bwlimit from the file, flags overriding; firstUid follows uidRange', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'slvd.yaml');
  writeFileSync(
    file,
    'adapter: linux\nnoPlc: true\ncgroupParent: /sys/fs/cgroup/cpu/slv\nuidRange: {min: 20000, max: 29999}\nbwlimit: {device: eth0, nodeCap: 100000000, exemptDestinations: [10.0.0.0/8]}\n',
  );
  const fromFile = resolveConfig({}, loadConfigFile(file));
  assert.equal(fromFile.cgroupParent, '/sys/fs/cgroup/cpu/slv');
  assert.deepEqual(fromFile.uidRange, { min: 20000, max: 29999 });
  assert.deepEqual(fromFile.bwlimit, { device: 'eth0', nodeCap: 100_000_000, exemptDestinations: ['10.0.0.0/8'], firstUid: 20000 });

  const parsed = flags(['--uid-range', '30000-30099', '--cgroup-parent', '/sys/fs/cgroup/cpu/other']);
  const config = resolveConfig(parsed.flags, loadConfigFile(file));
  assert.deepEqual(config.uidRange, { min: 30000, max: 30099 });
  assert.equal(config.cgroupParent, '/sys/fs/cgroup/cpu/other');
  assert.equal(config.bwlimit?.firstUid, 30000);

  writeFileSync(file, 'adapter: linux\nnoPlc: true\nuidRange: {min: 20000, max: 29999}\nbwlimit: {device: eth0, nodeCap: 100000000, firstUid: 1000}\n');
  assert.equal(resolveConfig({}, loadConfigFile(file)).bwlimit?.firstUid, 1000, 'an explicit firstUid is kept');
  assert.equal(resolveConfig({}).bwlimit, undefined, 'no bwlimit section, no limiter');
});

test('invalid linux adapter settings are refused naming them', (t) => {
  const dir = tempDir(t);
  let n = 0;
  const load = (text: string) => {
    const file = join(dir, `${n++}.yaml`);
    writeFileSync(file, text);
    return resolveConfig({}, loadConfigFile(file));
  };
  const usage = (fn: () => unknown, message: RegExp) => assert.throws(fn, (e: Error) => e instanceof UsageError && message.test(e.message), String(message));
  usage(() => load('adapter: linux\nnoPlc: true\nbwlimit: {device: eth0}\n'), /bwlimit must have required property 'nodeCap'/);
  usage(() => load('adapter: linux\nnoPlc: true\nbwlimit: {device: eth0, nodeCap: 4}\n'), /bwlimit\.nodeCap must be >= 8/);
  usage(() => load('adapter: linux\nnoPlc: true\nbwlimit: {device: eth0, nodeCap: 1000000, cap: 5}\n'), /unknown setting "bwlimit\.cap"/);
  usage(() => load('adapter: linux\nnoPlc: true\nbwlimit: {device: eth0, nodeCap: 1000000, exemptDestinations: 10.0.0.0/8}\n'), /bwlimit\.exemptDestinations must be array/);
  usage(() => load('adapter: linux\nnoPlc: true\nuidRange: {min: 0, max: 10}\n'), /uidRange\.min must be >= 1/);
  usage(() => load('adapter: linux\nnoPlc: true\nuidRange: {min: 30000, max: 20000}\n'), /uidRange 30000-20000 is empty/);
  usage(() => load('adapter: linux\nnoPlc: true\ncgroupParent: slv\n'), /cgroupParent must match pattern "\^\/"/);
  usage(() => load('bwlimit: {device: eth0, nodeCap: 1000000}\nuidRange: {min: 20000, max: 29999}\n'), /uidRange, bwlimit do not apply to the sim adapter/);
  usage(() => load('adapter: vserver\nnoPlc: true\ncgroupParent: /sys/fs/cgroup/cpu/slv\n'), /cgroupParent does not apply to the vserver adapter/);
  usage(() => parseCommandLine(['--uid-range', '20000']), /--uid-range expects MIN-MAX/);
});

test('delegateShell: relative to the file, overridden by --delegate-shell; a missing file, a directory or the sim adapter is refused', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'fac'), '');
  writeFileSync(join(dir, 'other'), '');
  const file = join(dir, 'slvd.yaml');
  const load = (text: string, argv: string[] = []) => {
    writeFileSync(file, text);
    return resolveConfig(flags(argv).flags, loadConfigFile(file));
  };
  assert.equal(load('adapter: linux\nnoPlc: true\ndelegateShell: fac\n').delegateShell, join(dir, 'fac'));
  assert.equal(load('adapter: vserver\nnoPlc: true\ndelegateShell: fac\n', ['--delegate-shell', join(dir, 'other')]).delegateShell, join(dir, 'other'));
  assert.equal(load('adapter: linux\nnoPlc: true\n').delegateShell, undefined, 'absent: the adapter installs its default');
  const usage = (fn: () => unknown, message: RegExp) => assert.throws(fn, (e: Error) => e instanceof UsageError && message.test(e.message), String(message));
  usage(() => load('adapter: linux\nnoPlc: true\ndelegateShell: missing\n'), new RegExp(`delegateShell ${join(dir, 'missing')}: no such file`));
  usage(() => load(`adapter: linux\nnoPlc: true\ndelegateShell: ${dir}\n`), /is not a regular file/);
  usage(() => load('delegateShell: fac\n'), /delegateShell does not apply to the sim adapter/);
});

test('--controllers and --conf-file-dirs: defaults, flags over the file, an unknown controller refused naming it', (t) => {
  const defaults = resolveConfig(flags([]).flags);
  assert.equal(defaults.controllers, '*');
  assert.ok(defaults.confFileDirs.includes('/etc/planetlab'));
  const dir = tempDir(t);
  const file = join(dir, 'slvd.yaml');
  writeFileSync(file, "controllers: '*,-reservation'\nconfFileDirs: [/etc/planetlab]\n");
  assert.deepEqual(resolveConfig({}, loadConfigFile(file)).confFileDirs, ['/etc/planetlab']);
  const parsed = flags(['--config', file, '--controllers', '*,-conf-files', '--conf-file-dirs', '/etc/planetlab,/etc/cron.d']);
  const config = resolveConfig(parsed.flags, loadConfigFile(file));
  assert.equal(config.controllers, '*,-conf-files');
  assert.deepEqual(config.confFileDirs, ['/etc/planetlab', '/etc/cron.d']);
  assert.throws(
    () => resolveConfig(flags(['--controllers', '*,-bwmom']).flags),
    (e: Error) => e instanceof UsageError && /unknown controller "bwmom"/.test(e.message),
  );
});

test('a real adapter needs an explicit PLC source (--plc, --plc-file or --no-plc); only the sim adapter defaults to the example', (t) => {
  const dir = tempDir(t);
  const usage = (fn: () => unknown, message: RegExp) => assert.throws(fn, (e: Error) => e instanceof UsageError && message.test(e.message), String(message));
  for (const adapter of ['linux', 'vserver']) {
    usage(
      () => resolveConfig(flags(['--adapter', adapter]).flags),
      new RegExp(`^the ${adapter} adapter acts on this node's accounts: name the PLC source with --plc URL, --plc-file FILE or --no-plc`),
    );
  }
  assert.deepEqual(resolveConfig(flags(['--adapter', 'linux', '--no-plc']).flags).plc, { kind: 'none' });
  assert.deepEqual(resolveConfig(flags(['--adapter', 'linux', '--plc-file', 'answer.json']).flags).plc, { kind: 'file', path: resolve('answer.json') });
  assert.equal(resolveConfig(flags(['--adapter', 'vserver', '--plc', 'http://plc.example.org/']).flags).plc.kind, 'url');
  const file = join(dir, 'slvd.yaml');
  writeFileSync(file, 'adapter: linux\nnoPlc: true\n');
  assert.deepEqual(resolveConfig({}, loadConfigFile(file)).plc, { kind: 'none' }, 'noPlc in the file');
  assert.deepEqual(resolveConfig(flags(['--plc-file', 'x.json']).flags, loadConfigFile(file)).plc, { kind: 'file', path: resolve('x.json') }, "a flag replaces the file's choice");
  usage(() => resolveConfig(flags(['--no-plc', '--plc-file', 'x.json']).flags), /choose one of --plc URL, --plc-file FILE and --no-plc/);
  assert.deepEqual(resolveConfig(flags([]).flags).plc, { kind: 'file', path: EXAMPLE_PLC_FILE }, 'sim: the example');
});

test('--adopt-orphans (adoptOrphans in the file) lets the orphan sweep destroy accounts slv has no record of; off by default', (t) => {
  assert.equal(resolveConfig(flags([]).flags).adoptOrphans, false);
  assert.equal(resolveConfig(flags(['--adopt-orphans']).flags).adoptOrphans, true);
  const file = join(tempDir(t), 'slvd.yaml');
  writeFileSync(file, 'adoptOrphans: true\n');
  assert.equal(resolveConfig({}, loadConfigFile(file)).adoptOrphans, true);
});

test('--role fleet-api needs --store etcd://... (role and store in the file too); --store without the role, or with --fleet, is refused', (t) => {
  const usage = (fn: () => unknown, message: RegExp) => assert.throws(fn, (e: Error) => e instanceof UsageError && message.test(e.message), String(message));
  assert.equal(resolveConfig(flags([]).flags).role, 'node');
  const api = resolveConfig(flags(['--role', 'fleet-api', '--store', 'etcd://h1:2379,h2:2379/slv/']).flags);
  assert.equal(api.role, 'fleet-api');
  assert.equal(api.store, 'etcd://h1:2379,h2:2379/slv/');
  usage(() => resolveConfig(flags(['--role', 'fleet-api']).flags), /^the fleet-api role needs the fleet's etcd: --store etcd:\/\//);
  usage(() => resolveConfig(flags(['--store', 'etcd://h1:2379']).flags), /^--store is for the fleet-api role/);
  usage(() => resolveConfig(flags(['--role', 'fleet-api', '--store', 'etcd://h1:2379', '--fleet', 'etcd://h1:2379']).flags), /choose one/);
  assert.throws(() => parseCommandLine(['--role', 'master']), /--role.*master.*Allowed choices are node, fleet-api/s);
  const file = join(tempDir(t), 'slvd.yaml');
  writeFileSync(file, 'role: fleet-api\nstore: etcd://10.0.0.1:2379/slv/\n');
  assert.equal(resolveConfig({}, loadConfigFile(file)).store, 'etcd://10.0.0.1:2379/slv/');
  writeFileSync(file, 'role: fleet-api\nstore: http://10.0.0.1:2379\n');
  assert.throws(() => loadConfigFile(file), /store must match pattern/);
});

test('apiHttps: port, address and files from the file, paths relative to it; missing or unknown settings refused naming them', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'slvd.yaml');
  writeFileSync(file, 'apiHttps:\n  port: 6443\n  address: 192.0.2.1\n  cert: tls/api.crt\n  key: /etc/slv/api.key\n  tokenFile: tokens.csv\n');
  assert.deepEqual(resolveConfig({}, loadConfigFile(file)).apiHttps, {
    port: 6443,
    address: '192.0.2.1',
    cert: join(dir, 'tls/api.crt'),
    key: '/etc/slv/api.key',
    tokenFile: join(dir, 'tokens.csv'),
  });
  assert.equal(resolveConfig({}).apiHttps, undefined, 'HTTPS only when configured');
  const usage = (text: string, message: RegExp) => {
    writeFileSync(file, text);
    assert.throws(
      () => loadConfigFile(file),
      (e: Error) => e instanceof UsageError && message.test(e.message),
    );
  };
  usage('apiHttps:\n  port: 6443\n  cert: c\n  key: k\n', /apiHttps must have required property 'tokenFile'/);
  usage('apiHttps:\n  port: 65536\n  cert: c\n  key: k\n  tokenFile: t\n', /apiHttps\.port must be <= 65535/);
  usage('apiHttps:\n  port: 6443\n  cert: c\n  key: k\n  tokenFile: t\n  tokens: [a]\n', /unknown setting "apiHttps\.tokens"/);
});
