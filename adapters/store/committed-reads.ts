// Reads that give exactly what the store would, from an in-memory cache when that is the same thing.
// slvd's informer holds every object already; when it has seen every write the store has committed,
// its copy is the store's current state, and reading it saves a SQLite read and a JSON parse per
// call. When it lags (a write not yet delivered to it, a relist), the read goes to the store, so a
// caller always reads its own writes (SetLoans, then GetLoans).
import type { Kind, KindMap } from '../../schemas/types.js';
import type { Store } from './contract.js';

/** A cache of every kind kept current by a watch of `store` (the controllers' informer). */
export interface CommittedCache {
  /** True when the cache reflects every store write up to `revision` and is watching. */
  hasSeen(revision: number): boolean;
  get<K extends Kind>(kind: K, name: string): KindMap[K] | undefined;
  list<K extends Kind>(kind: K): KindMap[K][];
}

/** Objects from a cache are shared with its other readers: never change them. */
export class CommittedReads {
  constructor(
    readonly store: Store,
    private readonly cache?: CommittedCache,
  ) {}

  /** The cache, when it holds exactly what the store has committed now. */
  private current(): CommittedCache | undefined {
    return this.cache?.hasSeen(this.store.revision()) ? this.cache : undefined;
  }

  tryGet<K extends Kind>(kind: K, name: string): Promise<KindMap[K] | undefined> {
    const cache = this.current();
    return cache ? Promise.resolve(cache.get(kind, name)) : this.store.tryGet(kind, name);
  }

  /** Every object of `kind`, ordered by name as the store lists them. */
  async list<K extends Kind>(kind: K): Promise<KindMap[K][]> {
    const cache = this.current();
    if (!cache) return (await this.store.list(kind)).items;
    return cache.list(kind).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  }
}
