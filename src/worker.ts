import type { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from './config';
import { createDb } from './db/knex';
import { createLogger } from './observability/logger';
import { createMetricsRegistry, serveMetrics } from './observability/metrics';
import { createOutboxStarter } from './outbox/service';
import { configureImageBucket } from './images/storage';
import { createStorageClient, ensureBuckets } from './storage/minio';
import { createTemporalClientProvider } from './temporal/client';
import { registerSchedule, resyncScheduleOptions, tokenRefreshScheduleOptions } from './temporal/schedules';
import { ensureSearchAttributes } from './temporal/searchAttributes';
import { createWorkerProcess, installTemporalRuntime } from './temporal/workerFactory';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  // Before the first NativeConnection: the SDK's logs go through pino from here on.
  installTemporalRuntime(logger);
  const db = createDb(config);
  const storage = createStorageClient(config);
  const temporal = createTemporalClientProvider(config);
  const metrics = createMetricsRegistry('worker');

  const client = await temporal.get();
  await ensureSearchAttributes(client.connection as Connection, config.TEMPORAL_NAMESPACE);
  await ensureBuckets(storage, config);
  const imageBucket = await configureImageBucket(storage, config, logger);
  logger.info({ notifications: imageBucket.notifications }, 'images bucket configured');
  for (const schedule of [resyncScheduleOptions(config), tokenRefreshScheduleOptions(config)]) {
    const scheduleState = await registerSchedule(client, schedule);
    logger.info({ schedule: schedule.scheduleId, state: scheduleState }, 'schedule registered');
  }

  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const outbox = createOutboxStarter(db, temporal, logger);
  const { workers, startRelay } = await createWorkerProcess({ connection, deps: { config, db, logger, storage, outbox }, metrics });
  const relay = startRelay();
  const metricsServer = config.METRICS_ENABLED ? await serveMetrics(metrics, config.WORKER_METRICS_PORT) : undefined;
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metricsPort: config.WORKER_METRICS_PORT }, 'worker started');

  // SIGINT/SIGTERM are handled by the SDK's default shutdown signals: run() resolves after drain.
  await Promise.all(workers.map((worker) => worker.run()));
  await relay.stop();
  metricsServer?.close();
  await connection.close();
  await temporal.close();
  await db.destroy();
  logger.info('worker stopped');
}

main().catch((error) => {
  // eslint-disable-next-line no-console
  console.error(error);
  process.exit(1);
});
