import { loadConfig } from './config';
import { createDb, createRelaxedDb } from './db/knex';
import { createApp } from './http/app';
import { createIdentityService } from './identity/service';
import { createLogger } from './observability/logger';
import { createMetricsRegistry } from './observability/metrics';
import { createOutboxDispatcher } from './outbox/service';
import { featureRouters } from './routes';
import { createStorageClient } from './storage/minio';
import { createTemporalClientProvider } from './temporal/client';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  const db = createDb(config);
  const relaxedDb = createRelaxedDb(config);
  const temporal = createTemporalClientProvider(config);
  const deps = {
    config,
    db,
    relaxedDb,
    logger,
    temporal,
    storage: createStorageClient(config),
    outbox: createOutboxDispatcher(db, temporal, logger, relaxedDb),
    identity: createIdentityService(db, relaxedDb),
    metrics: createMetricsRegistry('api'),
  };
  const server = createApp(deps, featureRouters).listen(config.PORT, () => {
    logger.info({ port: config.PORT, url: config.PUBLIC_BASE_URL }, 'api listening');
  });

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'api shutting down');
    server.close(async () => {
      await temporal.close();
      await Promise.all([db.destroy(), relaxedDb.destroy()]);
      process.exit(0);
    });
    server.closeAllConnections();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  // eslint-disable-next-line no-console
  console.error(error);
  process.exit(1);
});
