// The slv release, from package.json: what /version and `slvctl version` report.
import packageJson from '../package.json' with { type: 'json' };

export const SLV_VERSION: string = packageJson.version;
