// The node adapters slvd can run with, apart from the adapters themselves: the command line lists
// them without loading any (slvd --help).
export const NODE_ADAPTER_KINDS = ['sim', 'linux', 'vserver', 'lxc'] as const;
export type NodeAdapterKind = (typeof NODE_ADAPTER_KINDS)[number];
