// The PLC source: where GetSlivers() answers come from, and syncing them into the store.
export { DEFAULT_PLC_TIMEOUT_MS, fileSource, xmlRpcSource, type GetSliversSource, type XmlRpcSourceOptions } from './source.js';
export { PlcStateFile, type PlcState } from './state.js';
export { PlcSync, type PlcSyncOptions, type PlcSyncOutcome, type PlcSyncResult } from './sync.js';
