// The in-memory backend runs the same contract suite, unchanged: the contract is the store's, not
// SQLite's. (No reopen: it keeps nothing across restarts.)
import { MemoryStore } from '../../../../adapters/store/memory.js';
import { runStoreConformance } from '../../../../adapters/store/conformance.js';

runStoreConformance(
  'memory',
  async () => {
    const store = new MemoryStore();
    return { store, cleanup: () => store.close() };
  },
  { durable: false, historyAfterReopen: false },
);
