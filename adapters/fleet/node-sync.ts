// A node's link to the fleet (docs/fleet.md): mirror the specs of its namespace in etcd into its
// own store (field manager `fleet`), publish the statuses its controllers write back to etcd
// (only on change, coalesced), and keep a heartbeat under an etcd lease. The node never depends on
// it: with etcd away (at start or later) the node runs from its own store, the link retries, and
// when etcd is back it resumes the watch where it stopped, or relists after a compaction; every
// mirror step is planned from what both stores hold now, so a repeat never double-creates.
import type { Logger } from 'pino';
import type { Etcd3, Lease } from 'etcd3';
import { AccountNameTakenError, AlreadyExistsError, ConflictError, NotFoundError } from '../../resources/errors.js';
import { recordUpdate } from '../../resources/apply.js';
import { FLEET_KINDS, FLEET_MANAGER, isFleetOwned, planFleetMirror, statusToPublish, type Heartbeat } from '../../resources/fleet.js';
import { jsonEqual } from '../../resources/equal.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import { SLV_VERSION } from '../../resources/version.js';
import type { AnyObject, Kind } from '../../schemas/types.js';
import type { Store, Watch } from '../store/contract.js';
import type { EtcdStore } from '../store/etcd.js';
import { connect, heartbeatKey, openNamespace, type FleetConnection } from './layout.js';

export interface NodeSyncOptions {
  fleet: FleetConnection;
  node: string;
  /** The node's own store: the controllers' source of truth. */
  local: Store;
  log: Logger;
  /** Heartbeat period; the lease lives three periods (default 5 s). */
  heartbeatSeconds?: number;
  /** Pause before retrying what failed while etcd was away (default 1 s). */
  retryMs?: number;
  /** Where a name the node's store holds under another owner is reported. */
  warnings?: { warning(object: AnyObject, reason: string, message: string): void };
}

type ObjectKey = `${Kind}/${string}`;

const keyOf = (kind: Kind, name: string): ObjectKey => `${kind}/${name}`;
const splitKey = (key: ObjectKey): [Kind, string] => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash) as Kind, key.slice(slash + 1)];
};

export class NodeSync {
  private readonly client: Etcd3;
  private readonly heartbeatMs: number;
  private readonly retryMs: number;
  private remote: EtcdStore | undefined;
  private remoteWatch: Watch | undefined;
  private localWatch: Watch | undefined;
  /** Objects to mirror from the fleet, and fleet-owned objects whose status may need publishing. */
  private readonly toMirror = new Set<ObjectKey>();
  private readonly toPublish = new Set<ObjectKey>();
  private working = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lease: Lease | undefined;
  private lastHeartbeat: Omit<Heartbeat, 'time'> | undefined;
  /** Unknown until the first attempt, so the first outcome is logged either way. */
  private connected: boolean | undefined;
  private closed = false;
  private readonly reportedConflicts = new Set<string>();

  constructor(private readonly options: NodeSyncOptions) {
    this.client = connect(options.fleet);
    this.heartbeatMs = (options.heartbeatSeconds ?? 5) * 1000;
    this.retryMs = options.retryMs ?? 1000;
  }

  /** Is the link to etcd up (the node's namespace loaded and watched, the last etcd call answered)? */
  get fleetConnected(): boolean {
    return this.connected === true;
  }

  /** Start following the local store at once and the fleet as soon as etcd answers; never waits for etcd. */
  start(): void {
    this.localWatch = this.options.local.watch(
      {},
      {
        onEvent: ({ object }) => {
          if (FLEET_KINDS.includes(object.kind) && isFleetOwned(object)) this.schedule(this.toPublish, keyOf(object.kind, object.metadata.name));
        },
      },
    );
    void this.beat();
    this.kick();
  }

  private schedule(set: Set<ObjectKey>, key: ObjectKey): void {
    set.add(key);
    this.kick();
  }

  /** Run the work loop soon (coalescing everything that arrives meanwhile). */
  private kick(delayMs = 0): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.work();
    }, delayMs);
  }

  private async work(): Promise<void> {
    if (this.working || this.closed) return;
    this.working = true;
    let failed = false;
    try {
      if (!this.remote) await this.attach();
      failed = !(await this.drain(this.toMirror, (key) => this.mirror(key)));
      failed = !(await this.drain(this.toPublish, (key) => this.publish(key))) || failed;
    } catch (error) {
      failed = true;
      this.setConnected(false, error);
    } finally {
      this.working = false;
    }
    if (failed) this.kick(this.retryMs);
    else if (this.toMirror.size || this.toPublish.size) this.kick();
  }

  /** Run `step` for every key of `set` (taken out first); keys that fail go back. True if all succeeded. */
  private async drain(set: Set<ObjectKey>, step: (key: ObjectKey) => Promise<void>): Promise<boolean> {
    const keys = [...set];
    set.clear();
    const outcomes = await Promise.allSettled(keys.map(step));
    let ok = true;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') return;
      ok = false;
      set.add(keys[i]!);
      this.options.log.debug({ err: outcome.reason, object: keys[i] }, 'fleet sync step failed; retrying');
    });
    if (!ok) this.setConnected(false, undefined);
    return ok;
  }

  /** Load the namespace from etcd, then follow it. */
  private async attach(): Promise<void> {
    this.remote = await openNamespace(this.client, this.options.fleet, this.options.node);
    this.follow(this.remote);
    this.setConnected(true);
  }

  /**
   * Watch the namespace from the loaded revision and queue a comparison of everything. The store
   * resumes its etcd watch by itself after an outage; when etcd compacted past it, the store relists
   * and ends this watch, and we start over from its fresh copy.
   */
  private follow(remote: EtcdStore): void {
    if (this.closed) return;
    this.remoteWatch = remote.watch(
      { sinceRevision: remote.revision() },
      {
        onEvent: ({ object }) => {
          if (FLEET_KINDS.includes(object.kind)) this.schedule(this.toMirror, keyOf(object.kind, object.metadata.name));
        },
        onError: () => setTimeout(() => this.follow(remote), 0),
      },
    );
    void this.compareAll(remote);
  }

  private async compareAll(remote: EtcdStore): Promise<void> {
    for (const kind of FLEET_KINDS) {
      for (const object of (await remote.list(kind)).items) this.toMirror.add(keyOf(kind, object.metadata.name));
      for (const object of (await this.options.local.list(kind)).items) {
        if (!isFleetOwned(object)) continue;
        this.toMirror.add(keyOf(kind, object.metadata.name));
        this.toPublish.add(keyOf(kind, object.metadata.name));
      }
    }
    this.kick();
  }

  /** Make the node's object match the fleet's (planned from both as they are now). */
  private async mirror(key: ObjectKey): Promise<void> {
    const [kind, name] = splitKey(key);
    const { local } = this.options;
    const desired = await this.remote!.tryGet(kind, name);
    const current = await local.tryGet(kind, name);
    const action = planFleetMirror(desired && stripNamespace(desired), current);
    if (!action) return;
    const now = kubernetesTimestamp(Date.now());
    try {
      switch (action.type) {
        case 'create':
          await local.create(recordUpdate(undefined, action.object, FLEET_MANAGER, now));
          break;
        case 'update':
          await local.update(recordUpdate(current, action.object, FLEET_MANAGER, now));
          break;
        case 'delete':
          await local.delete(action.kind, action.name, {
            deletedBy: 'the fleet: removed from the fleet store',
            ...(action.resourceVersion === undefined ? {} : { resourceVersion: action.resourceVersion }),
          });
          break;
        case 'conflict':
          this.reportConflict(action.object, action.owner);
          return;
      }
    } catch (error) {
      if (error instanceof AccountNameTakenError && action.type === 'create') {
        this.reportConflict(action.object, `the ${error.holder.toLowerCase()} of that name`);
        return;
      }
      // Someone wrote the object between our read and our write: plan again from what is there now.
      if (error instanceof AlreadyExistsError || error instanceof ConflictError || error instanceof NotFoundError) {
        this.toMirror.add(key);
        return;
      }
      throw error;
    }
    this.toPublish.add(key);
  }

  private reportConflict(object: AnyObject, owner: string): void {
    const id = `${object.kind}/${object.metadata.name}`;
    if (this.reportedConflicts.has(id)) return;
    this.reportedConflicts.add(id);
    const message = `the fleet also names ${object.kind.toLowerCase()} "${object.metadata.name}", which ${owner} owns on this node; left alone`;
    this.options.log.warn({ object: id, owner }, message);
    this.options.warnings?.warning(object, 'FleetConflict', message);
  }

  /** Write the node's status of a fleet-owned object back to etcd, if etcd does not have it yet. */
  private async publish(key: ObjectKey): Promise<void> {
    const [kind, name] = splitKey(key);
    const local = await this.options.local.tryGet(kind, name);
    const remote = await this.remote!.tryGet(kind, name);
    if (!local || !remote || !isFleetOwned(local)) return;
    const status = statusToPublish(remote, local);
    if (status === undefined) return;
    const { resourceVersion: _any, ...metadata } = remote.metadata;
    await this.remote!.updateStatus({ ...remote, metadata, status } as AnyObject);
  }

  /** Keep the lease alive; rewrite the heartbeat only when what it says changed. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.lease) {
        const lease = this.client.lease(Math.ceil((this.heartbeatMs * 3) / 1000), { autoKeepAlive: false });
        await lease.grant();
        this.lease = lease;
        this.lastHeartbeat = undefined;
      } else {
        await this.lease.keepaliveOnce();
      }
      const slivers = (await this.options.local.list('Sliver')).items;
      const heartbeat = {
        node: this.options.node,
        version: SLV_VERSION,
        slivers: { total: slivers.length, ready: slivers.filter((s) => s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length },
        fleetConnected: this.connected === true,
      };
      if (this.remote) this.setConnected(true);
      if (!jsonEqual(heartbeat, this.lastHeartbeat)) {
        await this.lease.put(heartbeatKey(this.options.fleet.root, this.options.node)).value(JSON.stringify({ ...heartbeat, time: kubernetesTimestamp(Date.now()) }));
        this.lastHeartbeat = heartbeat;
      }
    } catch (error) {
      // The lease may have expired while etcd was away: grant a new one next time.
      this.lease?.release();
      this.lease = undefined;
      this.setConnected(false, error);
    }
    if (!this.closed) this.heartbeatTimer = setTimeout(() => void this.beat(), this.heartbeatMs);
  }

  private setConnected(connected: boolean, error?: unknown): void {
    if (connected === this.connected) return;
    this.connected = connected;
    if (connected) this.options.log.info({ node: this.options.node }, 'fleet link up: following the namespace in etcd');
    else {
      this.options.log.warn({ err: error }, 'fleet link down: running from the local store, retrying');
      // Back in contact later, compare everything: the watch may have missed nothing, but the statuses we could not write are still owed.
      this.kick(this.retryMs);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.heartbeatTimer);
    this.localWatch?.stop();
    this.remoteWatch?.stop();
    while (this.working) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.lease?.revoke().catch(() => undefined);
    await this.remote?.close();
    this.client.close();
  }
}

function stripNamespace(object: AnyObject): AnyObject {
  const { namespace: _node, ...metadata } = object.metadata;
  return { ...object, metadata } as AnyObject;
}
