// A real OpenSSH server for the login tests (delegates, lxc slivers), started in the foreground with its own config.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, runWithInput } from './xmlrpc-harness.js';
import { registerCleanup } from './host-cleanup.js';

export const SSHD = '/usr/sbin/sshd';

/**
 * Start `sshd -f config -D -e`; resolves once it listens on 127.0.0.1 (bounded: 15 s, then it is
 * killed). The caller stops it; an interrupted test process kills it.
 */
export function startSshd(config: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let started: ChildProcess | undefined;
    const release = registerCleanup(`sshd -f ${config}`, () => started?.kill('SIGKILL'));
    const sshd = spawn(SSHD, ['-f', config, '-D', '-e'], { stdio: ['ignore', 'ignore', 'pipe'] });
    started = sshd;
    let log = '';
    const timer = setTimeout(() => {
      sshd.kill('SIGKILL');
      reject(new Error(`sshd did not start listening:\n${log}`));
    }, 15_000);
    sshd.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (/Server listening on 127\.0\.0\.1 port/.test(log)) {
        clearTimeout(timer);
        resolve(sshd);
      }
    });
    sshd.on('exit', (code) => {
      clearTimeout(timer);
      void release();
      reject(new Error(`sshd exited (${code}):\n${log}`));
    });
  });
}

export interface LoopbackSshd {
  sshd: ChildProcess;
  port: number;
  /** `ssh -i clientKey user@127.0.0.1 command...` with `input` on stdin. */
  ssh(user: string, command: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * A test sshd on a free loopback port with a host key and a client key made in `dir`, letting in
 * only `users` by public key, through the host's PAM stack as on a node (with UsePAM no, sshd would
 * refuse the locked ('!') password useradd leaves). The caller kills `sshd`.
 */
export async function startLoopbackSshd(dir: string, users: string[]): Promise<LoopbackSshd> {
  const port = await freePort();
  const clientKey = join(dir, 'client_key');
  const sshdConfig = join(dir, 'sshd_config');
  const settings = [`ListenAddress 127.0.0.1:${port}`, `HostKey ${join(dir, 'host_key')}`, `PidFile ${join(dir, 'sshd.pid')}`, 'UsePAM yes', 'PrintMotd no', 'PubkeyAuthentication yes'];
  settings.push('PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin no', `AllowUsers ${users.join(' ')}`, 'LogLevel VERBOSE', '');
  writeFileSync(sshdConfig, settings.join('\n'));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
  const sshd = await startSshd(sshdConfig);
  return {
    sshd,
    port,
    ssh(user, command, input = '') {
      const args = ['-F', '/dev/null', '-i', clientKey, '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
      args.push('-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, ...command);
      return runWithInput('ssh', args, input, { timeoutMs: 30_000 });
    },
  };
}

/** The host key and client key startLoopbackSshd expects in `dir`; returns the client's public key. */
export function makeSshKeys(dir: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  return readFileSync(join(dir, 'client_key.pub'), 'utf8').trim();
}
