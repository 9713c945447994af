// A node's link to the fleet (docs/fleet.md): mirror the specs of its namespace in etcd into its
// own store (field manager `fleet`), publish the statuses its controllers write back to etcd
// (only on change, coalesced), and keep a heartbeat under an etcd lease. The node never depends on
// it: with etcd away (at start or later) the node runs from its own store, the link retries, and
// when etcd is back it resumes the watch where it stopped, or relists after a compaction; every
// mirror step is planned from what both stores hold now, so a repeat never double-creates.
import type { Logger } from 'pino';
import type { Etcd3, Lease } from 'etcd3';
import { AccountNameTakenError, AlreadyExistsError, ConflictError, NotFoundError, UnavailableError } from '../../resources/errors.js';
import { recordUpdate } from '../../resources/apply.js';
import { FLEET_KINDS, FLEET_MANAGER, isFleetOwned, planFleetMirror, statusToPublish, type Heartbeat } from '../../resources/fleet.js';
import { jsonEqual } from '../../resources/equal.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import { SLV_VERSION } from '../../resources/version.js';
import type { AnyObject, Kind } from '../../schemas/types.js';
import type { Store, Watch, WriteOperation } from '../store/contract.js';
import { MAX_OBJECTS_PER_TXN, type EtcdStore } from '../store/etcd.js';
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
  /**
   * How long status changes gather before they are written (default 50 ms): a new sliver's
   * controllers change its status several times in quick succession, and one etcd txn for all of
   * them leaves etcd free for the writes that matter.
   */
  publishGatherMs?: number;
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
  /** Mirroring and publishing run apart, so a slow status write never delays a new spec reaching the node. */
  private readonly mirrorLane: Lane;
  private readonly publishLane: Lane;
  private attaching: Promise<void> | undefined;
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
    this.mirrorLane = new Lane(
      () => this.pass(() => this.drain(this.toMirror, (key) => this.mirror(key))),
      () => this.toMirror.size > 0,
      this.retryMs,
      0,
    );
    this.publishLane = new Lane(
      () => this.pass(() => this.publishAll()),
      () => this.toPublish.size > 0,
      this.retryMs,
      options.publishGatherMs ?? 50,
    );
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
          if (FLEET_KINDS.includes(object.kind) && isFleetOwned(object)) this.schedule(this.toPublish, this.publishLane, keyOf(object.kind, object.metadata.name));
        },
      },
    );
    void this.beat();
    this.kickAll();
  }

  private schedule(set: Set<ObjectKey>, lane: Lane, key: ObjectKey): void {
    set.add(key);
    lane.kick();
  }

  private kickAll(delayMs = 0): void {
    this.mirrorLane.kick(delayMs);
    this.publishLane.kick(delayMs);
  }

  /** One pass of a lane, once the namespace is loaded: false (retry later) if anything failed. */
  private async pass(work: () => Promise<boolean>): Promise<boolean> {
    try {
      if (!this.remote) {
        this.attaching ??= this.attach().finally(() => (this.attaching = undefined));
        await this.attaching;
      }
      return await work();
    } catch (error) {
      this.setConnected(false, error);
      return false;
    }
  }

  /** Run `step` for every key of `set` (taken out first, or `keys` of it); keys that fail go back. True if all succeeded. */
  private async drain(set: Set<ObjectKey>, step: (key: ObjectKey) => Promise<void>, keys = takeAll(set)): Promise<boolean> {
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
          if (FLEET_KINDS.includes(object.kind)) this.schedule(this.toMirror, this.mirrorLane, keyOf(object.kind, object.metadata.name));
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
    this.kickAll();
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
    this.schedule(this.toPublish, this.publishLane, key);
  }

  private reportConflict(object: AnyObject, owner: string): void {
    const id = `${object.kind}/${object.metadata.name}`;
    if (this.reportedConflicts.has(id)) return;
    this.reportedConflicts.add(id);
    const message = `the fleet also names ${object.kind.toLowerCase()} "${object.metadata.name}", which ${owner} owns on this node; left alone`;
    this.options.log.warn({ object: id, owner }, message);
    this.options.warnings?.warning(object, 'FleetConflict', message);
  }

  /**
   * Write the statuses etcd does not have yet, up to MAX_OBJECTS_PER_TXN per etcd txn: one etcd
   * write for all the statuses that changed together. A batch refused for one object (which the
   * fleet removed meanwhile) is retried one status at a time, so one object never holds back the others.
   */
  private async publishAll(): Promise<boolean> {
    const owed = takeAll(this.toPublish);
    const writes: Array<{ key: ObjectKey; operation: WriteOperation }> = [];
    for (const key of owed) {
      const operation = await this.statusWrite(key);
      if (operation) writes.push({ key, operation });
    }
    let ok = true;
    for (let i = 0; i < writes.length; i += MAX_OBJECTS_PER_TXN) {
      const batch = writes.slice(i, i + MAX_OBJECTS_PER_TXN);
      const keys = batch.map((write) => write.key);
      try {
        await this.remote!.transact(batch.map((write) => write.operation));
      } catch (error) {
        // etcd away: this batch and the ones after it stay owed. Else one object was refused: write the others one by one.
        if (error instanceof UnavailableError) {
          for (const write of writes.slice(i)) this.toPublish.add(write.key);
          throw error;
        }
        ok = (await this.drain(this.toPublish, (key) => this.publish(key), keys)) && ok;
      }
    }
    return ok;
  }

  /** Write one object's status back to etcd, if etcd does not have it yet. */
  private async publish(key: ObjectKey): Promise<void> {
    const operation = await this.statusWrite(key);
    if (operation) await this.remote!.transact([operation]);
  }

  /** The status write a fleet-owned object needs in etcd, or none when etcd has its status already. */
  private async statusWrite(key: ObjectKey): Promise<WriteOperation | undefined> {
    const [kind, name] = splitKey(key);
    const local = await this.options.local.tryGet(kind, name);
    const remote = await this.remote!.tryGet(kind, name);
    if (!local || !remote || !isFleetOwned(local)) return undefined;
    const status = statusToPublish(remote, local);
    if (status === undefined) return undefined;
    const { resourceVersion: _any, ...metadata } = remote.metadata;
    return { type: 'updateStatus', object: { ...remote, metadata, status } as AnyObject };
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
      this.kickAll(this.retryMs);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.heartbeatTimer);
    this.localWatch?.stop();
    this.remoteWatch?.stop();
    await Promise.all([this.mirrorLane.close(), this.publishLane.close()]);
    await this.lease?.revoke().catch(() => undefined);
    await this.remote?.close();
    this.client.close();
  }
}

/** A loop of the link: one pass `gatherMs` after a kick (coalescing what arrives meanwhile), never two at once, another while work is left, a retry after `retryMs` when a pass failed. */
class Lane {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly pass: () => Promise<boolean>,
    private readonly pending: () => boolean,
    private readonly retryMs: number,
    private readonly gatherMs: number,
  ) {}

  kick(delayMs = this.gatherMs): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    // A kick during a pass is not lost: the pass, once done, looks for work left.
    if (this.running || this.closed) return;
    let ok = false;
    this.running = this.pass().then((outcome) => void (ok = outcome));
    await this.running;
    this.running = undefined;
    if (!ok) this.kick(this.retryMs);
    else if (this.pending()) this.kick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

function takeAll<T>(set: Set<T>): T[] {
  const items = [...set];
  set.clear();
  return items;
}

function stripNamespace(object: AnyObject): AnyObject {
  const { namespace: _node, ...metadata } = object.metadata;
  return { ...object, metadata } as AnyObject;
}
