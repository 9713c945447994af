// The controllers slvd can run, apart from the controllers themselves: the command line checks
// --controllers against them without loading any (slvd --help).
export const CONTROLLER_NAMES = ['account', 'rspec', 'expiry', 'cpu-cores', 'admin-accounts', 'conf-files', 'reservation', 'bwmon'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];
