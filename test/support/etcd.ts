// Real etcd members for tests: loopback ports, data in a temp dir, never the system's etcd.
// Create the cluster, register `stop` (it also removes the data), then `start`: stop is safe at
// any point, and an exit of the test process kills what is still running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort } from './xmlrpc-harness.js';

/** Why etcd tests skip, or false when the etcd binary is installed. */
export const etcdMissing: string | false = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).status === 0 ? false : 'etcd is not installed (Debian package etcd-server)';

interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  process?: ChildProcess;
}

export class EtcdCluster {
  private readonly members: Member[] = [];
  private dir: string | undefined;
  private readonly killOnExit = () => {
    for (const member of this.members) member.process?.kill('SIGKILL');
  };

  constructor(private readonly size = 1) {}

  /** Client endpoints of every member. */
  get endpoints(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'slv-etcd-'));
    process.on('exit', this.killOnExit);
    for (let i = 0; i < this.size; i++) {
      this.members.push({ name: `m${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}` });
    }
    for (const member of this.members) this.launch(member);
    await this.waitHealthy();
  }

  private launch(member: Member, state: 'new' | 'existing' = 'new'): void {
    const initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    member.process = spawn(
      'etcd',
      [
        '--name',
        member.name,
        '--data-dir',
        join(this.dir!, member.name),
        '--listen-client-urls',
        member.clientUrl,
        '--advertise-client-urls',
        member.clientUrl,
        '--listen-peer-urls',
        member.peerUrl,
        '--initial-advertise-peer-urls',
        member.peerUrl,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-state',
        state,
        '--initial-cluster-token',
        `slv-test-${process.pid}`,
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    member.process.stderr?.resume();
    // If this process dies without running exit handlers (SIGKILL, out of memory), the member goes too.
    const watchdog = `while kill -0 ${process.pid} && kill -0 ${member.process.pid}; do sleep 1; done 2>/dev/null; kill -0 ${process.pid} 2>/dev/null || { kill -9 ${member.process.pid}; rm -rf ${this.dir}; } 2>/dev/null`;
    spawn('sh', ['-c', watchdog], { detached: true, stdio: 'ignore' }).unref();
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      // A client per probe: the etcd3 client's circuit breaker, opened by the probes made before the
      // members listened, would otherwise refuse the later ones for a while (seen once at load).
      const client = new Etcd3({ hosts: this.endpoints });
      try {
        await client.get('health-probe').string();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`etcd did not become healthy in 20 s: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        client.close();
      }
    }
  }

  /** The index of the member that is raft leader now. */
  async leader(): Promise<number> {
    for (const [i, member] of this.members.entries()) {
      if (member.process?.exitCode !== null || member.process.signalCode !== null) continue;
      const client = new Etcd3({ hosts: [member.clientUrl] });
      try {
        const status = await client.maintenance.status();
        if (status.leader === status.header.member_id) return i;
      } catch {
        // an unreachable member is not the leader
      } finally {
        client.close();
      }
    }
    throw new Error('no etcd member reports itself leader');
  }

  /** SIGKILL one member (as a crash would); `restart` brings it back on the same data. */
  async kill(index: number): Promise<void> {
    const child = this.members[index]?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(index: number): Promise<void> {
    const member = this.members[index]!;
    this.launch(member, 'existing');
    await this.waitHealthy();
  }

  /** Kill every member (SIGKILL: nothing to flush that a test needs) and remove the data. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)));
    process.off('exit', this.killOnExit);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
