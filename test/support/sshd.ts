// A real OpenSSH server for the delegate tests, started in the foreground with its own config.
import { spawn, type ChildProcess } from 'node:child_process';
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
