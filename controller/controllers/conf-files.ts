// The conf-files duty (the old node manager's conf_files module): each conf file PLC lists
// (NodeConfig/plc spec.confFiles) is fetched from PLC's boot server and installed atomically when
// its content differs (or always_update), with its preinstall and postinstall commands around the
// install and its error command on a failure. Like the old module it looks again every period, as
// a file's content can change on PLC without the node's answer changing. A failed fetch or a failed
// preinstall keeps the old file; a destination outside the allowed directories is refused.
import { Counter, type Registry } from '../../adapters/support/prometheus.js';
import type { NodeFiles } from '../../adapters/node/posix/node-files.js';
import { runCommand } from '../../adapters/support/exec.js';
import { NodeError, UnavailableError } from '../../resources/errors.js';
import { confFileRefusal, confFilesByDest } from '../../resources/node-duties.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import type { ConfFile, ConfFileStatus, NodeConfig } from '../../schemas/types.js';
import type { ReconcileContext, Reconciler } from '../runtime/types.js';
import { nodeConfigDuty } from './node-config.js';
import { writeStatus } from './status.js';

/** How often conf files are looked at again without a NodeConfig change (the old node manager's cycle). */
export const CONF_FILES_PERIOD_MS = 15 * 60_000;

export interface ConfFilesControllerOptions {
  files: NodeFiles;
  /** A conf file's bytes from PLC's boot server, by its `source`. */
  fetch: (source: string) => Promise<Buffer>;
  allowedDirs: readonly string[];
  commandTimeoutMs: number;
  registry: Registry;
}

type Result = Omit<ConfFileStatus, 'lastInstalled'>;

export function createConfFilesController(options: ConfFilesControllerOptions): Reconciler {
  const { files, fetch, allowedDirs, commandTimeoutMs } = options;
  const outcomes = new Counter({ name: 'slv_conf_file_syncs_total', help: 'conf file checks by outcome', labelNames: ['outcome'], registers: [options.registry] });

  /** Run a PLC command with /bin/sh in the root, with a timeout; its failure message, or undefined. */
  const run = async (command: string): Promise<string | undefined> => {
    if (command.trim() === '') return undefined;
    try {
      await runCommand('/bin/sh', ['-c', command], { timeoutMs: commandTimeoutMs, cwd: files.root, env: { SLV_ROOT: files.root } });
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  const syncOne = async (file: ConfFile, config: NodeConfig, context: ReconcileContext): Promise<Result> => {
    const { dest } = file;
    const warn = (reason: string, message: string, outcome: Result['outcome']): Result => {
      context.events.warning(config, reason, `${dest}: ${message}`);
      return { dest, outcome, message };
    };
    const refusal = confFileRefusal(dest, allowedDirs);
    if (refusal !== undefined) return warn('ConfFileRefused', refusal, 'refused');
    let content: Buffer;
    try {
      content = await fetch(file.source);
    } catch (error) {
      return warn('ConfFileFetchFailed', `${(error as Error).message}; the installed file is kept`, 'fetch-failed');
    }
    if (!file.alwaysUpdate && files.readConfFile(dest)?.equals(content)) return { dest, outcome: 'unchanged' };
    const failed = async (reason: string, message: string, outcome: Result['outcome']): Promise<Result> => {
      const errorCommandFailure = await run(file.errorCmd);
      return warn(reason, errorCommandFailure === undefined ? message : `${message}; error_cmd failed too: ${errorCommandFailure}`, outcome);
    };
    const preinstall = await run(file.preinstallCmd);
    if (preinstall !== undefined && !file.ignoreCmdErrors) return failed('ConfFilePreinstallFailed', `preinstall_cmd failed, the installed file is kept: ${preinstall}`, 'preinstall-failed');
    try {
      const owner = files.ownership(file.owner, file.group);
      files.installConfFile(file.dest, content, parseInt(file.permissions, 8), owner, (dir) => {
        if (confFileRefusal(`${dir}/x`, allowedDirs) !== undefined) throw new NodeError(`its directory resolves to ${dir}, outside the allowed directories`);
      });
    } catch (error) {
      return failed('ConfFileInstallFailed', `not installed: ${(error as Error).message}`, 'install-failed');
    }
    const postinstall = await run(file.postinstallCmd);
    if (postinstall !== undefined && !file.ignoreCmdErrors) return failed('ConfFilePostinstallFailed', `installed, but postinstall_cmd failed: ${postinstall}`, 'postinstall-failed');
    context.events.normal(config, 'ConfFileInstalled', `${dest} installed from ${file.source}`);
    return { dest, outcome: 'installed' };
  };

  return nodeConfigDuty('conf-files', async (config, context) => {
    const previous = new Map((config.status?.confFiles ?? []).map((entry) => [entry.dest, entry.lastInstalled]));
    const now = kubernetesTimestamp(context.clock.now());
    const results: ConfFileStatus[] = [];
    // One at a time, in PLC's order: a postinstall may depend on an earlier file.
    for (const file of confFilesByDest(config.spec.confFiles).values()) {
      const result = await syncOne(file, config, context);
      outcomes.inc({ outcome: result.outcome });
      const lastInstalled = result.outcome === 'installed' || result.outcome === 'postinstall-failed' ? now : previous.get(file.dest);
      results.push({ ...result, ...(lastInstalled === undefined ? {} : { lastInstalled }) });
    }
    await writeStatus<'NodeConfig'>(context.store, config, (status) => ({ ...status, confFiles: results }));
    const fetchFailures = results.filter((result) => result.outcome === 'fetch-failed').length;
    // A failed fetch is retried with backoff; everything else waits for the next period.
    if (fetchFailures > 0) throw new UnavailableError(`${fetchFailures} conf file(s) could not be fetched from PLC`);
    return { requeueAfter: CONF_FILES_PERIOD_MS };
  });
}
