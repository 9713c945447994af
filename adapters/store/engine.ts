// What every store backend shares: reads parse the stored JSON, lists filter by label selector,
// writes become transactions of WriteOperations planned by resources/store-rules.ts. A backend supplies raw rows,
// persistence (`submit`) and watch history.
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../resources/errors.js';
import { matchesSelector, parseSelector } from '../../resources/selectors.js';
import type { DeleteOptions, ListOptions, ListResult, Store, Watch, WatchHandlers, WatchOptions, WriteOptions } from './contract.js';
import { type PlanContext, type WriteOperation } from '../../resources/store-rules.js';
import { kubernetesTimestamp } from '../../resources/time.js';
import type { AnyObject, Kind, KindMap } from '../../schemas/types.js';

export abstract class StoreBase implements Store {
  /** The serialized object, or undefined. */
  protected abstract readData(kind: Kind, name: string): string | undefined;
  /** Every serialized object of a kind, ordered by name. */
  protected abstract listData(kind: Kind): Iterable<string>;
  /**
   * Persist one transaction (planned by resources/store-rules.ts `planTransaction`), or for dryRun
   * only plan it; settles with one result per operation once the change is durable.
   */
  protected abstract submit(operations: readonly WriteOperation[], options: WriteOptions): Promise<Array<AnyObject | undefined>>;
  protected abstract assertOpen(): void;
  abstract watch(options: WatchOptions, handlers: WatchHandlers): Watch;
  abstract revision(): number;
  abstract compactedRevision(): number;
  abstract compact(keep: number): Promise<void>;
  abstract close(): Promise<void>;

  protected read(kind: Kind, name: string): AnyObject | undefined {
    const data = this.readData(kind, name);
    return data === undefined ? undefined : (JSON.parse(data) as AnyObject);
  }

  protected planContext(revision: number): PlanContext {
    return { revision, now: kubernetesTimestamp(Date.now()), newUid: randomUUID, read: (kind, name) => this.read(kind, name) };
  }

  async get<K extends Kind>(kind: K, name: string): Promise<KindMap[K]> {
    const object = await this.tryGet(kind, name);
    if (!object) throw new NotFoundError(kind, name);
    return object;
  }

  async tryGet<K extends Kind>(kind: K, name: string): Promise<KindMap[K] | undefined> {
    this.assertOpen();
    return this.read(kind, name) as KindMap[K] | undefined;
  }

  async list<K extends Kind>(kind: K, options: ListOptions = {}): Promise<ListResult<KindMap[K]>> {
    this.assertOpen();
    const requirements = options.labelSelector ? parseSelector(options.labelSelector) : [];
    const items: KindMap[K][] = [];
    for (const data of this.listData(kind)) {
      const object = JSON.parse(data) as KindMap[K];
      options.strings?.internAll(object);
      if (matchesSelector(requirements, object.metadata.labels)) items.push(object);
    }
    return { items, revision: this.revision() };
  }

  /** A single write is a transaction of one operation. */
  private async write(operation: WriteOperation, options: WriteOptions): Promise<AnyObject | undefined> {
    const [result] = await this.submit([operation], options);
    return result;
  }

  create<T extends AnyObject>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.write({ type: 'create', object }, options) as Promise<T>;
  }

  update<T extends AnyObject>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.write({ type: 'update', object }, options) as Promise<T>;
  }

  updateStatus<T extends AnyObject>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.write({ type: 'updateStatus', object }, options) as Promise<T>;
  }

  delete<K extends Kind>(kind: K, name: string, options: DeleteOptions = {}): Promise<KindMap[K] | undefined> {
    const precondition = options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion };
    const deletedBy = options.deletedBy === undefined ? {} : { deletedBy: options.deletedBy };
    return this.write({ type: 'delete', kind, name, ...precondition, ...deletedBy }, options) as Promise<KindMap[K] | undefined>;
  }

  transact(operations: readonly WriteOperation[], options: WriteOptions = {}): Promise<Array<AnyObject | undefined>> {
    return this.submit(operations, options);
  }
}
