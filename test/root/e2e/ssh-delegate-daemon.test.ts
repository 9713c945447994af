// End to end, the way a PlanetLab delegate meets slv: a PLC answer lists a sliver whose
// `delegations` name a delegate record; slvd (linux adapter on the HOST root, because sshd resolves
// users through the host's passwd) creates the delegate's account with the forward_api_calls shell
// and installs its key; a real sshd on a loopback port lets `ssh -i key delegate@127.0.0.1 <
// request.xml` reach the shim. A newer PLC answer without the records (SIGHUP) makes slvd destroy
// the accounts again.
//
// This test changes the host, so it is confined and undone: uids 62000-62099 (no other test's
// block), a cgroup parent of its own, slvd's own forward_api_calls build (socket in the temp dir,
// not /tmp/sliver_mgr.api), and after() removes whatever is left (accounts, installed shells,
// /etc/shells lines, cgroups) before checking the host's account files are byte-identical.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../../adapters/api/client/client.js';
import { CpuCgroups, defaultCgroupParent } from '../../../adapters/node/posix/cgroup.js';
import { LINUX_SHELLS } from '../../../adapters/node/linux/index.js';
import { buildForwardApiCalls, freePort, methodCallXml, parseReply, runWithInput } from '../../support/xmlrpc-harness.js';
import { worldReadableTempDir } from '../../support/staging.js';
import { startSshd } from '../../support/sshd.js';
import { registerCleanup } from '../../support/host-cleanup.js';
import { needs } from '../../support/host-needs.js';
import { guardHostAccounts, hostAccount, hostFileHashes, idsInRange } from '../../support/host-accounts.js';
import { spawnSlvd, waitForStatus, type Daemon } from '../../support/slvd-process.js';

const UID_RANGE = { min: 62_000, max: 62_099 };
const skip = needs('accounts on the host, sshd', 'sshd', 'ssh', 'ssh-keygen');

const suffix = randomBytes(3).toString('hex');
const lender = `slvt_${suffix}a`;
const borrower = `slvt_${suffix}b`;
const delegate = `slvt_${suffix}d`;
const ACCOUNTS = [lender, borrower, delegate];
/** What slv may create on the host and what after() removes if it was not there before. */
const INSTALLED = [...Object.values(LINUX_SHELLS), '/etc/slv', '/run/slv'];

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await sleep(100);
  assert.ok(check(), `gave up waiting until ${what}`);
}

const cgroupParent = join(defaultCgroupParent(), '..', `slv-test-e2e-ssh-${suffix}`);
let dir: string | undefined;
let daemon: Daemon | undefined;
let sshd: ChildProcess | undefined;

async function stopDaemon(): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.child.kill('SIGTERM');
  const exited = await Promise.race([daemon.exited.then(() => true), sleep(15_000, undefined, { ref: false }).then(() => false)]);
  if (!exited) daemon.child.kill('SIGKILL');
  await daemon.exited;
}

/** Removes whatever slv or the test left on the host; registered before the test makes any of it. */
async function undoHost(problems: string[]): Promise<void> {
  await stopDaemon();
  sshd?.kill('SIGTERM');
  problems.push(...(guard?.restore() ?? []));
  if (existsSync(cgroupParent)) {
    const cgroups = new CpuCgroups(cgroupParent);
    for (const child of readdirSync(cgroupParent, { withFileTypes: true })) if (child.isDirectory()) await cgroups.remove(child.name);
    rmdirSync(cgroupParent);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}

const cleanupProblems: string[] = [];
// Taken only when the test runs: reading /etc/shadow needs root, and a skipped file must load.
const guard = skip ? undefined : guardHostAccounts(ACCOUNTS, INSTALLED);
const releaseHost = skip ? undefined : registerCleanup('the e2e delegate accounts, shells and cgroup', () => undoHost(cleanupProblems));

after(async () => {
  if (!releaseHost || !guard) return;
  await releaseHost();
  assert.deepEqual(cleanupProblems, [], 'the cleanup ran without errors');
  assert.deepEqual(hostFileHashes(), guard.hashesBefore, 'the host account files and /etc/shells are as before');
  for (const path of INSTALLED) assert.equal(existsSync(path), guard.existedBefore(path), `${path} is as before`);
});

test('a delegate created through slvd (PLC → Delegate → linux account) calls GetRSpec and SetLoans over real ssh; dropping the records destroys the accounts', { skip, timeout: 90_000 }, async (t) => {
  for (const file of ['/etc/passwd', '/etc/group']) assert.deepEqual(idsInRange(file, UID_RANGE), [], `${file} has no ids in ${UID_RANGE.min}-${UID_RANGE.max}, the block this test uses`);
  dir = worldReadableTempDir('slv-e2e-ssh-');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o755 }); // the delegate's shell (its uid) must reach the socket inside
  const shell = buildForwardApiCalls(dir, join(dataDir, 'sliver_mgr.api')); // spawnSlvd's socket; sshd passes no SLV_API_SOCKET
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  const clientKey = readFileSync(join(dir, 'client_key.pub'), 'utf8').trim();

  const record = (name: string, extra: Record<string, unknown>) => ({ name, instantiation: 'plc-instantiated', keys: [], attributes: [], ...extra });
  const answer = (timestamp: number, slivers: unknown[]) => JSON.stringify({ timestamp, slivers });
  writeFileSync(
    join(dir, 'one.json'),
    answer(100, [
      record(lender, {
        attributes: [
          { name: 'cpu_share', value: '64' },
          { name: 'delegations', value: delegate },
        ],
      }),
      record(borrower, {}),
      record(delegate, { instantiation: 'nm-controller', type: 'delegate', keys: [{ key_type: 'ssh', key: clientKey }] }),
    ]),
  );
  writeFileSync(join(dir, 'two.json'), answer(200, []));
  const configFile = join(dir, 'slvd.yaml');
  const config = (plcFile: string) =>
    `adapter: linux\nroot: /\ncgroupParent: ${cgroupParent}\nuidRange: {min: ${UID_RANGE.min}, max: ${UID_RANGE.max}}\ndelegateShell: ${shell}\nplcFile: ${plcFile}\nperiod: 3600\n`;
  writeFileSync(configFile, config('one.json'));

  daemon = spawnSlvd(t, ['--data-dir', dataDir, '--config', configFile]);
  try {
    const status = await waitForStatus(dataDir, daemon, (s) => s.ready && s.slivers.ready === 2 && s.delegates.ready === 1, 'both slivers and the delegate are Ready');
    const account = hostAccount(delegate);
    assert.ok(account, 'the delegate is a host account');
    assert.equal(account[6], LINUX_SHELLS.delegate, 'its login shell is forward_api_calls');
    assert.ok(Number(account[2]) >= UID_RANGE.min && Number(account[2]) <= UID_RANGE.max, `its uid ${account[2]} is from --uid-range`);
    assert.deepEqual(readFileSync(LINUX_SHELLS.delegate), readFileSync(shell), 'the configured delegateShell is what slv installed');
    assert.ok(readFileSync('/etc/shells', 'utf8').split('\n').includes(LINUX_SHELLS.delegate), 'the shell is registered in /etc/shells');
    assert.equal(readFileSync(join(account[5]!, '.ssh/authorized_keys'), 'utf8'), `${clientKey}\n`, "PLC's key is installed");

    const port = await freePort();
    const sshdConfig = join(dir, 'sshd_config');
    // The host's PAM stack, as on a node: with UsePAM no, sshd would refuse the locked ('!') password useradd leaves.
    const settings = [`ListenAddress 127.0.0.1:${port}`, `HostKey ${join(dir, 'host_key')}`, `PidFile ${join(dir, 'sshd.pid')}`, 'UsePAM yes', 'PrintMotd no', 'PubkeyAuthentication yes'];
    settings.push('PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin no', `AllowUsers ${delegate}`, 'LogLevel VERBOSE', '');
    writeFileSync(sshdConfig, settings.join('\n'));
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
    sshd = await startSshd(sshdConfig);

    const overSsh = (request: string) => {
      const args = ['-F', '/dev/null', '-i', join(dir!, 'client_key'), '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
      args.push('-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', `${delegate}@127.0.0.1`);
      return runWithInput('ssh', args, request, { timeoutMs: 30_000 });
    };
    // The host's PAM session (pam_motd) greets every login before the shell runs; the reply is what follows.
    const reply = (stdout: string) => stdout.slice(stdout.indexOf('<?xml'));

    const rspec = await overSsh(methodCallXml('GetRSpec', [`<string>${lender}</string>`]));
    assert.equal(rspec.code, 0, rspec.stderr);
    assert.match(reply(rspec.stdout), /^<\?xml version="1.0"\?><methodResponse><params><param><value><struct>/);
    assert.match(reply(rspec.stdout), /<member><name>cpu_share<\/name><value><int>64<\/int><\/value><\/member>/);

    const loans = `<array><data><value><array><data><value><string>${borrower}</string></value><value><string>cpu_share</string></value><value><int>16</int></value></data></array></value></data></array>`;
    const set = await overSsh(methodCallXml('SetLoans', [`<string>${lender}</string>`, loans]));
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(await parseReply(reply(set.stdout)), { result: 1 });
    const api = new ApiClient(status.apiSocket);
    t.after(() => api.close());
    assert.deepEqual(
      (await api.list('Loan')).items.map((loan) => loan.spec),
      [{ from: lender, to: borrower, resource: 'cpu_share', amount: 16, order: 0 }],
    );
    const readBack = await overSsh(methodCallXml('GetLoans', [`<string>${lender}</string>`]));
    assert.deepEqual(await parseReply(reply(readBack.stdout)), { result: [[borrower, 'cpu_share', 16]] });

    const stranger = await overSsh(methodCallXml('GetRSpec', [`<string>${borrower}</string>`]));
    assert.deepEqual(await parseReply(reply(stranger.stdout)), { fault: { code: 108, string: 'Permission denied.' } }, 'no delegation names the delegate on the other sliver');

    // PLC stops listing everything: slvd itself destroys the three accounts.
    writeFileSync(configFile, config('two.json'));
    daemon.child.kill('SIGHUP');
    await waitFor(() => ACCOUNTS.every((name) => !hostAccount(name)), 'slvd removed the accounts from /etc/passwd');
    for (const name of ACCOUNTS) assert.equal(existsSync(`/home/${name}`), false, `${name}'s home is removed`);
  } finally {
    await stopDaemon();
  }
  assert.equal(daemon.child.exitCode, 0, daemon.output());
});
