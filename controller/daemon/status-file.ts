// `<data-dir>/status.json`: the daemon's readiness and last PLC sync, for humans, scripts and
// tests (the API's /readyz says the same over the socket). Replaced atomically on every change.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SocketReport } from '../../adapters/api/xmlrpc/server.js';

export const STATUS_FILE = 'status.json';

export type DaemonPhase = 'starting' | 'running' | 'stopping' | 'stopped';

export interface DaemonStatus {
  pid: number;
  phase: DaemonPhase;
  ready: boolean;
  startedAt: string;
  adapter: string;
  apiSocket: string;
  xmlrpcSocket: string;
  /** Every XML-RPC socket path, served or not and why (a path another user squats is reported here). */
  xmlrpcSockets: SocketReport[];
  xmlrpcPort: number;
  plc: {
    source: string;
    lastSync?: { outcome: string; at: string; created: number; updated: number; deleted: number; skipped: string[]; error?: string };
    lastApplied?: string;
    /** When PLC last answered anything (a fault included). */
    lastReached?: string;
    /** Whether PLC accepted the node's credentials (node authentication only). */
    authenticated?: boolean;
  };
  slivers: { total: number; ready: number };
  delegates: { total: number; ready: number };
}

export class StatusFile {
  readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, STATUS_FILE);
  }

  write(status: DaemonStatus): void {
    const temp = `${this.path}.tmp`;
    writeFileSync(temp, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o644 });
    renameSync(temp, this.path);
  }
}
