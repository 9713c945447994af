// The PLC source: where GetSlivers() answers come from, how the node authenticates, and syncing
// the answers into the store.
export { DEFAULT_BOOT_FILE, SessionFile, bootAuth, bootAuthMessage, canonicalize, parseBootFile, readNodeCredentials, type NodeCredentials } from './node-auth.js';
export { DEFAULT_PLC_TIMEOUT_MS, NodeAuthSource, PLC_AUTHENTICATION_FAULT, PlcClient, fileSource, isPlcFault, structAuthSource, type GetSliversSource, type PlcEndpoint } from './source.js';
export { PlcStateFile, type PlcState } from './state.js';
export { PlcSync, type PlcSyncOptions, type PlcSyncOutcome, type PlcSyncResult } from './sync.js';
