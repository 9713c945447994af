// End to end through a real OpenSSH server: a delegate account on this host whose login shell is
// forward_api_calls, `ssh delegate@127.0.0.1 < request.xml` reaching the shim, the delegate known
// by its uid (SO_PEERCRED) and allowed by the sliver's delegations.
//
// sshd resolves users with getpwnam, so the delegate must be a real host account: a uniquely named
// one is created with useradd (its shell registered in /etc/shells). The cleanup that removes both
// is registered before either is made and undoes each part on its own, so a failure anywhere (or
// an interrupted run) leaves neither behind. sshd runs on a free loopback port with its own config,
// host key and authorized-keys directory in a temp dir; the host's own sshd setup is not touched.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildForwardApiCalls, freePort, methodCallXml, parseReply, runWithInput, sliver, startWorld, type ShimWorld } from '../../../support/xmlrpc-harness.js';
import { worldReadableTempDir } from '../../../support/staging.js';
import { startSshd } from '../../../support/sshd.js';
import { registerCleanup } from '../../../support/host-cleanup.js';
import { needs } from '../../../support/host-needs.js';

const skip = needs('useradd on the host, sshd', 'sshd', 'ssh', 'ssh-keygen');

/** useradd/userdel take a lock on /etc/passwd; another process holding it briefly is retried. */
function withPasswdLock(command: string, args: string[]): void {
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync(command, args, { stdio: 'pipe' });
      return;
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
      if (attempt >= 10 || !/lock/i.test(stderr)) throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim()}`);
      execFileSync('sleep', ['0.2']);
    }
  }
}

function removeShellLine(shell: string): void {
  const lines = readFileSync('/etc/shells', 'utf8').split('\n');
  const kept = lines.filter((line) => line !== shell);
  if (kept.length !== lines.length) writeFileSync('/etc/shells', kept.join('\n'));
}

function hostUid(name: string): number | undefined {
  const fields = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((f) => f[0] === name);
  return fields ? Number(fields[2]) : undefined;
}

/** Run every step even when one fails; then fail naming each step that did. */
async function undoAll(steps: Array<[what: string, step: () => unknown]>): Promise<void> {
  const failures: string[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`cleanup failed: ${failures.join('; ')}`);
}

describe('delegate over real ssh', { skip, timeout: 120_000 }, () => {
  const delegate = `slvdg${randomBytes(4).toString('hex')}`;
  let sshDir: string | undefined;
  let shell: string | undefined;
  let sshd: ChildProcess | undefined;
  let world: ShimWorld | undefined;
  let port: number;
  let undo: (() => Promise<void>) | undefined;

  before(async () => {
    undo = registerCleanup(`delegate account ${delegate}, its /etc/shells line, sshd`, () =>
      undoAll([
        ['stop sshd', () => sshd?.kill('SIGTERM')],
        ['close the shim', () => world?.close()],
        [
          "kill the delegate's processes",
          () => {
            const uid = hostUid(delegate);
            if (uid !== undefined) execFileSync('/usr/bin/pkill', ['-KILL', '-U', String(uid)], { stdio: 'ignore' });
          },
        ],
        ['userdel', () => hostUid(delegate) !== undefined && withPasswdLock('userdel', [delegate])],
        ['remove the /etc/shells line', () => shell && removeShellLine(shell)],
        ['remove the temp dir', () => sshDir && rmSync(sshDir, { recursive: true, force: true })],
      ]),
    );
    sshDir = worldReadableTempDir('slv-ssh-');
    const socketPath = join(sshDir, 'api.sock');
    shell = buildForwardApiCalls(sshDir, socketPath); // the socket path is built in: sshd passes no SLV_API_SOCKET
    const shells = readFileSync('/etc/shells', 'utf8');
    appendFileSync('/etc/shells', `${shells === '' || shells.endsWith('\n') ? '' : '\n'}${shell}\n`);

    const home = join(sshDir, 'home');
    withPasswdLock('useradd', ['--no-create-home', '--home-dir', home, '--shell', shell, '--password', '*', delegate]);
    const uid = Number(execFileSync('id', ['-u', delegate], { encoding: 'utf8' }).trim());
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, uid, uid);

    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'client_key')]);
    mkdirSync(join(sshDir, 'authorized_keys'), { mode: 0o755 });
    writeFileSync(join(sshDir, 'authorized_keys', delegate), readFileSync(join(sshDir, 'client_key.pub')));
    chmodSync(join(sshDir, 'authorized_keys', delegate), 0o644);

    port = await freePort();
    const config = join(sshDir, 'sshd_config');
    writeFileSync(
      config,
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${join(sshDir, 'host_key')}`,
        `PidFile ${join(sshDir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(sshDir, 'authorized_keys', '%u')}`,
        // The keys live under /tmp (world-writable), which StrictModes would refuse; the files are root's, 0644.
        'StrictModes no',
        'UsePAM no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        `AllowUsers ${delegate}`,
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
    sshd = await startSshd(config);

    world = await startWorld({ socketPath, systemAccounts: { [delegate]: uid } });
    await world.store.create(sliver('alice', { rspec: { cpu_share: 64 }, delegations: [{ account: delegate, methods: ['GetRSpec', 'SetLoans'] }] }));
    await world.store.create(sliver('bob'));
  });

  after(() => undo?.());

  async function overSsh(request: string, command: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const args = ['-F', '/dev/null', '-i', join(sshDir!, 'client_key'), '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
    args.push('-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', `${delegate}@127.0.0.1`, ...command);
    return runWithInput('ssh', args, request, { timeoutMs: 60_000 });
  }

  test('GetRSpec and SetLoans by ssh delegate@127.0.0.1 < request.xml', async () => {
    const rspec = await overSsh(methodCallXml('GetRSpec', ['<string>alice</string>']));
    assert.equal(rspec.code, 0, rspec.stderr);
    assert.match(rspec.stdout, /^<\?xml version="1.0"\?><methodResponse><params><param><value><struct>/);
    assert.match(rspec.stdout, /<member><name>cpu_share<\/name><value><int>64<\/int><\/value><\/member>/);

    const loans = '<array><data><value><array><data><value><string>bob</string></value><value><string>cpu_share</string></value><value><int>16</int></value></data></array></value></data></array>';
    const set = await overSsh(methodCallXml('SetLoans', ['<string>alice</string>', loans]));
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(await parseReply(set.stdout), { result: 1 });
    assert.deepEqual(
      (await world!.store.list('Loan')).items.map((loan) => loan.spec),
      [{ from: 'alice', to: 'bob', resource: 'cpu_share', amount: 16, order: 0 }],
    );
  });

  test('the delegate gets only what the delegations give it', async () => {
    const notListed = await overSsh(methodCallXml('Stop', ['<string>alice</string>']));
    assert.deepEqual(await parseReply(notListed.stdout), { fault: { code: 108, string: 'Permission denied.' } });
    const otherSliver = await overSsh(methodCallXml('GetRSpec', ['<string>bob</string>']));
    assert.deepEqual(await parseReply(otherSliver.stdout), { fault: { code: 108, string: 'Permission denied.' } });
  });

  test('an empty request or a command line gets a fault, never a shell', async () => {
    const empty = await overSsh('');
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(await parseReply(empty.stdout), { fault: { code: 1, string: 'Malformed XML-RPC request: Invalid XML-RPC message' } });
    // `ssh delegate@node id` runs the login shell as `shell -c id`: the command is ignored.
    const command = await overSsh(methodCallXml('GetRSpec', ['<string>bob</string>']), ['id']);
    assert.deepEqual(await parseReply(command.stdout), { fault: { code: 108, string: 'Permission denied.' } });
  });
});
