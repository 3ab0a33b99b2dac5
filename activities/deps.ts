import type { Client as StorageClient } from 'minio';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../src/config';
import type { Db } from '../src/db/knex';
import type { Resolver } from '../src/http/ssrfGuard';
import type { OutboxStarter } from '../src/outbox/service';
import type { RetryPacer } from '../src/webhooks/attempts';

/** Everything an activity may touch, injected once by the worker (and by tests). */
export interface ActivityDeps {
  config: Config;
  db: Db;
  logger: Logger;
  storage: StorageClient;
  outbox: OutboxStarter;
  /** The worker's registry, for activities that keep counters of their own. */
  metrics?: Registry;
  /**
   * Host name → addresses for outbound fetches of attachments; DNS when absent. Tests pass a fake
   * resolver (DNS is a third party) to make a name resolve to a private address.
   */
  resolve?: Resolver;
  /** The process's webhook retry pacer, shared with its outbox relay (createRetryPacer); none: unpaced. */
  retryPacer?: RetryPacer;
}
