// Where the XML-RPC shim listens by default, apart from the shim: the command line names them
// without loading it (slvd --help).
/** Root's socket, in a directory only root may write, so no other user can stand in for slvd. */
export const DEFAULT_XMLRPC_SOCKET = '/run/slv/sliver_mgr.api';
/** The original Node Manager's socket, in world-writable /tmp: served for old clients when slvd can own it. */
export const LEGACY_XMLRPC_SOCKET = '/tmp/sliver_mgr.api';
