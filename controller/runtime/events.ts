// Events written to the store as Event objects, the way kubectl describe shows them: a repeat of
// the same (object, type, reason, message, source) bumps `count` and `lastTimestamp` of one Event
// instead of adding another, and each object keeps at most `maxPerObject` Events (the least
// recently seen are dropped). Writes are queued and serialized, so recording never blocks or
// throws into a reconcile; a failed write is logged and dropped, and so is an event recorded
// after close() (a reconcile finishing during shutdown). An object's Events outlive it for a
// retention period (collectGarbage), so `get ev` still says why it went away.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../../adapters/store/contract.js';
import { Lifecycle, type LifecycleState, type LongLived } from '../../adapters/support/lifecycle.js';
import { Sequencer } from '../../adapters/support/sequencer.js';
import { API_VERSION, type AnyObject, type EventSpec, type Kind, type SlvEvent } from '../../schemas/types.js';
import type { Clock, EventRecorder } from './types.js';

export interface StoreEventRecorderOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Events kept per involved object. */
  maxPerObject?: number;
}

export const DEFAULT_MAX_EVENTS_PER_OBJECT = 20;
// Room for the `.` and the hash within the 253-character object-name limit.
const MAX_NAME_PREFIX = 200;
const MAX_MESSAGE = 4096;

/** The Event name for one (object, type, reason, message, source): `<object>.<hash>`. */
export function eventName(kind: Kind, name: string, type: EventSpec['type'], reason: string, message: string, source: string): string {
  const hash = createHash('sha256').update([kind, name, type, reason, message, source].join('\0')).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_NAME_PREFIX)}.${hash}`;
}

function objectKey(kind: Kind, name: string): string {
  return `${kind}/${name}`;
}

function splitObjectKey(key: string): [Kind, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash) as Kind, key.slice(slash + 1)];
}

export class StoreEventRecorder implements LongLived {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly maxPerObject: number;
  /** Event names per involved object with their lastTimestamp, loaded once from the store. */
  private index: Map<string, Map<string, string>> | undefined;
  private readonly writes = new Sequencer();
  private readonly lifecycle = new Lifecycle('the event recorder');

  constructor(options: StoreEventRecorderOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log;
    this.maxPerObject = options.maxPerObject ?? DEFAULT_MAX_EVENTS_PER_OBJECT;
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** Events may be recorded before start as well: start only marks the recorder as in use. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Write what is queued; later events are dropped. */
  close(): Promise<void> {
    return this.lifecycle.close(() => this.writes.settled());
  }

  /** A recorder that reports as `source` (a controller or component name). */
  forSource(source: string): EventRecorder {
    return {
      normal: (object, reason, message) => this.record(source, object, 'Normal', reason, message),
      warning: (object, reason, message) => this.record(source, object, 'Warning', reason, message),
    };
  }

  record(source: string, object: AnyObject, type: EventSpec['type'], reason: string, message: string): void {
    if (object.kind === 'Event') return;
    const involved = { kind: object.kind, name: object.metadata.name, ...(object.metadata.uid ? { uid: object.metadata.uid } : {}) };
    // The time of the occurrence, not of the (queued) write.
    const at = new Date(this.clock.now()).toISOString();
    // A Normal event is an action done (started, stopped, expired, destroyed, ...): one info line
    // each, so the daemon's log tells what happened without listing Events. Warnings are logged where they arise.
    if (type === 'Normal') this.log.info({ [object.kind.toLowerCase()]: object.metadata.name, reason, source }, message);
    this.enqueue(() => this.write(source, involved, type, reason, message.slice(0, MAX_MESSAGE), at));
  }

  /**
   * Delete the Events of objects that are gone, once their newest Event is older than `retentionMs`:
   * Events outlive their object (its Deleted or Expired Event says why it went) for that long. An
   * object created again under the name keeps them. Resolves when done.
   */
  collectGarbage(retentionMs: number): Promise<void> {
    return this.writes.run(async () => {
      const cutoff = new Date(this.clock.now() - retentionMs).toISOString();
      const index = await this.loadIndex();
      for (const [key, names] of [...index]) {
        const newest = [...names.values()].reduce((a, b) => (a > b ? a : b), '');
        if (newest >= cutoff) continue;
        const [kind, name] = splitObjectKey(key);
        if (await this.store.tryGet(kind, name)) continue;
        index.delete(key);
        for (const eventName of names.keys()) await this.store.delete('Event', eventName).catch(() => undefined);
      }
    });
  }

  /** Writes queued and not yet finished. */
  pending(): number {
    return this.writes.pending();
  }

  /** Called whenever the write queue drains. */
  onSettled(listener: () => void): void {
    this.writes.onIdle(listener);
  }

  /** Resolves when every event recorded so far is written (or failed). */
  flush(): Promise<void> {
    return this.writes.settled();
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.lifecycle.is('closing', 'closed')) {
      this.log.debug('event recorder closed; event dropped');
      return;
    }
    this.writes.run(task).catch((error: unknown) => this.log.warn({ err: error }, 'could not write event'));
  }

  private async loadIndex(): Promise<Map<string, Map<string, string>>> {
    if (this.index) return this.index;
    const index = new Map<string, Map<string, string>>();
    for (const event of (await this.store.list('Event')).items) {
      const key = objectKey(event.spec.involvedObject.kind, event.spec.involvedObject.name);
      const names = index.get(key) ?? new Map<string, string>();
      names.set(event.metadata.name, event.spec.lastTimestamp);
      index.set(key, names);
    }
    this.index = index;
    return index;
  }

  private async write(source: string, involved: EventSpec['involvedObject'], type: EventSpec['type'], reason: string, message: string, now: string): Promise<void> {
    const name = eventName(involved.kind, involved.name, type, reason, message, source);
    const index = await this.loadIndex();
    const key = objectKey(involved.kind, involved.name);
    const names = index.get(key) ?? new Map<string, string>();
    index.set(key, names);

    const existing = await this.store.tryGet('Event', name);
    if (existing) {
      await this.store.update<SlvEvent>({ ...existing, spec: { ...existing.spec, count: existing.spec.count + 1, lastTimestamp: now } });
    } else {
      await this.store.create<SlvEvent>({
        apiVersion: API_VERSION,
        kind: 'Event',
        metadata: { name },
        spec: { involvedObject: involved, type, reason, message, count: 1, firstTimestamp: now, lastTimestamp: now, source },
      });
    }
    // Re-inserted so that, among equal timestamps, the most recently written is trimmed last.
    names.delete(name);
    names.set(name, now);
    await this.trim(names);
  }

  private async trim(names: Map<string, string>): Promise<void> {
    if (names.size <= this.maxPerObject) return;
    const oldestFirst = [...names.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [name] of oldestFirst.slice(0, names.size - this.maxPerObject)) {
      names.delete(name);
      await this.store.delete('Event', name).catch(() => undefined);
    }
  }
}
