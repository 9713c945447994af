// A second store backend: everything in memory, nothing durable. It exists to prove the store
// contract is the backend's, not SQLite's (the conformance suite runs against it unchanged), and
// serves tests and benches that are about controllers rather than storage.
import { UnavailableError } from '../../resources/errors.js';
import type { Watch, WatchHandlers, WatchOptions, WriteOptions } from './contract.js';
import { StoreBase } from './engine.js';
import { planTransaction, type WriteOperation } from '../../resources/store-rules.js';
import type { AnyObject, Kind } from '../../schemas/types.js';
import { WatchHub, assertHistoryKept, type RecordedChange } from './watch-hub.js';

export class MemoryStore extends StoreBase {
  /** Serialized objects by kind and name, so callers never share references with the store. */
  private readonly objects = new Map<string, string>();
  private history: RecordedChange[] = [];
  private currentRevision = 0;
  private oldestRevision = 0;
  private closed = false;
  private readonly hub = new WatchHub();

  private static key(kind: Kind, name: string): string {
    return `${kind}/${name}`;
  }

  protected readData(kind: Kind, name: string): string | undefined {
    return this.objects.get(MemoryStore.key(kind, name));
  }

  protected listData(kind: Kind): Iterable<string> {
    const prefix = `${kind}/`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, data]) => data);
  }

  protected async submit(operations: readonly WriteOperation[], options: WriteOptions): Promise<Array<AnyObject | undefined>> {
    this.assertOpen();
    const plan = planTransaction(operations, this.planContext(this.currentRevision + 1));
    const results = plan.results.map((result) => (result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as AnyObject)));
    if (options.dryRun || !plan.changes.length) return results;
    const revision = ++this.currentRevision;
    for (const { type, object } of plan.changes) {
      const data = JSON.stringify(object);
      const key = MemoryStore.key(object.kind, object.metadata.name);
      if (type === 'DELETED') this.objects.delete(key);
      else this.objects.set(key, data);
      const change: RecordedChange = { type, kind: object.kind, data, revision };
      this.history.push(change);
      this.hub.publish(change);
    }
    return results;
  }

  watch(options: WatchOptions, handlers: WatchHandlers): Watch {
    this.assertOpen();
    const since = options.sinceRevision ?? this.currentRevision;
    assertHistoryKept(since, this.oldestRevision);
    return this.hub.add(
      options.kind,
      handlers,
      this.history.filter((change) => change.revision > since),
    );
  }

  revision(): number {
    return this.currentRevision;
  }

  compactedRevision(): number {
    return this.oldestRevision;
  }

  async compact(keep: number): Promise<void> {
    const below = this.currentRevision - keep;
    if (below <= this.oldestRevision) return;
    this.history = this.history.filter((change) => change.revision > below);
    this.oldestRevision = below;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.closeAll(new UnavailableError('store closed'));
  }

  protected assertOpen(): void {
    if (this.closed) throw new UnavailableError('memory store is closed');
  }
}
