import type { Server } from 'node:http';
import { Config, loadConfig } from './config';
import { createDb, createRelaxedDb } from './db/knex';
import { createApp } from './http/app';
import { createAuthCache, invalidateOnIdentityChanges } from './identity/authCache';
import { createIdentityService } from './identity/service';
import { createLogger } from './observability/logger';
import { createMetricsRegistry } from './observability/metrics';
import { featureRouters, internalRouters } from './routes';
import { createStorageClient } from './storage/minio';
import { createTemporalClientProvider } from './temporal/client';

export interface RunningApi {
  server: Server;
  close(): Promise<void>;
}

/** The API process: its engines' clients, the app, and a listener on `port`. */
export async function startApi(config: Config, port = config.PORT): Promise<RunningApi> {
  const logger = createLogger(config, 'api');
  const db = createDb(config);
  const relaxedDb = createRelaxedDb(config);
  const temporal = createTemporalClientProvider(config);
  const authCache = createAuthCache(config.AUTH_CACHE_TTL);
  const identityChanges = config.AUTH_CACHE_TTL > 0 ? await invalidateOnIdentityChanges(config.DATABASE_URL, authCache, logger) : undefined;
  const deps = {
    config,
    db,
    relaxedDb,
    logger,
    temporal,
    storage: createStorageClient(config),
    identity: createIdentityService(db, relaxedDb, { authCache }),
    metrics: createMetricsRegistry('api'),
  };
  const server = createApp(deps, featureRouters, internalRouters).listen(port);
  await new Promise((resolve) => server.once('listening', resolve));
  logger.info({ port, url: config.PUBLIC_BASE_URL }, 'api listening');
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(async () => {
          await temporal.close();
          await identityChanges?.close();
          await Promise.all([db.destroy(), relaxedDb.destroy()]);
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const api = await startApi(loadConfig());
  const shutdown = async () => {
    await api.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

if (require.main === module) {
  main().catch((error) => {
    // eslint-disable-next-line no-console
    console.error(error);
    process.exit(1);
  });
}
