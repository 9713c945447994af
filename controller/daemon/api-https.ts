// The REST API's HTTPS listener as the config file's `apiHttps` describes it: a certificate, its
// key and the bearer tokens that name callers. A node's slvd and the fleet API both serve it.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { HttpsListenerOptions } from '../../adapters/api/rest/server.js';
import { BearerTokens, readTokenFile } from '../../adapters/api/identity/bearer.js';
import { UsageError } from '../../resources/errors.js';
import type { ApiHttpsConfig } from '../../schemas/config.js';

export class ApiHttps {
  /** What the REST server listens with; its tokens are re-read on SIGHUP (reloadTokens). */
  readonly listener: HttpsListenerOptions;
  private readonly tokens: BearerTokens;

  /** Reads the certificate, key and token file now: one that cannot be used is a usage error, before anything starts. */
  constructor(
    private readonly settings: ApiHttpsConfig,
    private readonly log: Logger,
  ) {
    const read = (what: string, file: string) => {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new UsageError(`apiHttps.${what} ${file}: ${(error as Error).message}`, { cause: error });
      }
    };
    this.tokens = new BearerTokens(readTokenFile(settings.tokenFile));
    this.listener = {
      port: settings.port,
      ...(settings.address !== undefined ? { host: settings.address } : {}),
      tls: { cert: read('cert', settings.cert), key: read('key', settings.key) },
      tokens: this.tokens,
    };
    log.info({ port: settings.port, address: settings.address ?? '(every address)', tokens: this.tokens.size }, 'REST API over HTTPS, callers known by bearer token');
  }

  /** The token file as it is now, so a revoked token stops working without a restart; a file that cannot be used leaves the tokens in force as they were. */
  reloadTokens(): void {
    const file = this.settings.tokenFile;
    try {
      this.tokens.replace(readTokenFile(file));
      this.log.info({ file, tokens: this.tokens.size }, 'SIGHUP: API tokens re-read');
    } catch (error) {
      this.log.error({ err: error }, 'SIGHUP: API tokens not re-read; the previous tokens stay in force');
    }
  }
}
