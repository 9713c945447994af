// Killing every process of a sliver: by its uid (pkill -U) and by its cgroup, repeated until none
// is left, because a process can fork between one sweep and the next.
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeError } from '../../../resources/errors.js';
import { runCommand } from '../../support/exec.js';

const PKILL_NO_MATCH = 1;
const SWEEPS = 50;
const SWEEP_PAUSE_MS = 20;

/** Pids of the uid's processes (pgrep -U). */
export async function pidsOfUid(uid: number): Promise<number[]> {
  const { stdout } = await runCommand('/usr/bin/pgrep', ['-U', String(uid)], { okExitCodes: [PKILL_NO_MATCH] });
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** SIGKILL everything running as `uid` or listed by `cgroupPids`; rejects if something survives. */
export async function killAll(uid: number, cgroupPids: () => number[]): Promise<void> {
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    const left = [...new Set([...(await pidsOfUid(uid)), ...cgroupPids()])];
    if (left.length === 0) return;
    await runCommand('/usr/bin/pkill', ['-KILL', '-U', String(uid)], { okExitCodes: [PKILL_NO_MATCH] });
    for (const pid of cgroupPids()) killQuietly(pid);
    await sleep(SWEEP_PAUSE_MS); // let the kernel reap before looking again
  }
  const left = [...new Set([...(await pidsOfUid(uid)), ...cgroupPids()])];
  if (left.length) throw new NodeError(`processes of uid ${uid} survived ${SWEEPS} SIGKILL sweeps: ${left.join(', ')}`);
}

/** SIGKILL `pid`; one that has already gone is fine. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
