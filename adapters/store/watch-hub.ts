// Watch fan-out shared by store backends: each watcher gets the committed changes of its kind in
// revision order, each as its own parsed copy, delivered after the write that made them returns.
import { GoneError } from '../../resources/errors.js';
import type { Watch, WatchEventType, WatchHandlers } from './contract.js';
import type { AnyObject, Kind } from '../../schemas/types.js';

/** A committed change as kept for watchers: the serialized object, parsed per watcher. */
export interface RecordedChange {
  type: WatchEventType;
  kind: Kind;
  data: string;
  revision: number;
}

interface Watcher {
  kind: Kind | undefined;
  handlers: WatchHandlers;
  buffer: RecordedChange[];
  draining: boolean;
  stopped: boolean;
}

/** A watch from `since` replays the history after it: 410 Gone when that history starts later. */
export function assertHistoryKept(since: number, oldest: number): void {
  if (since < oldest) {
    throw new GoneError(`too old resource version: ${since} (history starts after ${oldest}); relist and watch from the list's revision`);
  }
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  /** Register a watcher that first receives `replay` (history after its start revision), then live changes. */
  add(kind: Kind | undefined, handlers: WatchHandlers, replay: Iterable<RecordedChange>): Watch {
    const watcher: Watcher = { kind, handlers, buffer: [], draining: false, stopped: false };
    for (const change of replay) if (!kind || change.kind === kind) watcher.buffer.push(change);
    if (watcher.buffer.length) this.scheduleDrain(watcher);
    this.watchers.add(watcher);
    return {
      stop: () => {
        watcher.stopped = true;
        this.watchers.delete(watcher);
      },
    };
  }

  publish(change: RecordedChange): void {
    for (const watcher of this.watchers) {
      if (watcher.kind && watcher.kind !== change.kind) continue;
      watcher.buffer.push(change);
      this.scheduleDrain(watcher);
    }
  }

  /** End every watch, telling each why. */
  closeAll(error: Error): void {
    // Taken out first: a watcher told to relist may start a new watch from its onError.
    const ending = [...this.watchers];
    this.watchers.clear();
    for (const watcher of ending) {
      watcher.stopped = true;
      watcher.handlers.onError?.(error);
    }
  }

  private scheduleDrain(watcher: Watcher): void {
    if (watcher.draining) return;
    watcher.draining = true;
    queueMicrotask(() => {
      watcher.draining = false;
      const changes = watcher.buffer;
      watcher.buffer = [];
      for (const change of changes) {
        if (watcher.stopped) return;
        try {
          watcher.handlers.onEvent({ type: change.type, object: JSON.parse(change.data) as AnyObject, revision: change.revision });
        } catch (error) {
          // A throwing handler must not break the store or other watchers; it learns through onError.
          watcher.handlers.onError?.(error as Error);
        }
      }
    });
  }
}
