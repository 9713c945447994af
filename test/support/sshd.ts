// A real OpenSSH server for the delegate tests, started in the foreground with its own config.
import { spawn, type ChildProcess } from 'node:child_process';

export const SSHD = '/usr/sbin/sshd';

/** Start `sshd -f config -D -e`; resolves once it listens on 127.0.0.1 (bounded: 15 s). */
export function startSshd(config: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const sshd = spawn(SSHD, ['-f', config, '-D', '-e'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => reject(new Error(`sshd did not start listening:\n${log}`)), 15_000);
    sshd.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (/Server listening on 127\.0\.0\.1 port/.test(log)) {
        clearTimeout(timer);
        resolve(sshd);
      }
    });
    sshd.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited (${code}):\n${log}`));
    });
  });
}
