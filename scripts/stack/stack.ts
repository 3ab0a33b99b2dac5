import fs from 'node:fs';
import path from 'node:path';
import { DEV_STORAGE_NOTIFICATION_TOKEN } from '../../src/config';
import { MinioHandle, startMinio } from './minio';
import { PostgresHandle, startPostgres } from './postgres';
import { TemporalHandle, startTemporal } from './temporal';
import { scriptLog } from './log';

export interface Stack {
  postgres: PostgresHandle;
  temporal: TemporalHandle;
  minio: MinioHandle;
  /** The env a process of ours needs to reach this stack (names as in src/config.ts). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  mode: 'dev' | 'test';
  /** Where engines keep data and logs: `.data/` for dev, a temp dir for tests. */
  dataDir: string;
  database: string;
  ports?: { temporal?: number; temporalUi?: number; minio?: number; minioConsole?: number };
  /** The API's storage-event endpoint, for MinIO's bucket notifications (image uploads). */
  storageEventsUrl?: string;
  /** Receives each report line (without a prefix); default: scriptLog('stack'). */
  log?: (line: string) => void;
}

/**
 * Starts (or finds) Postgres, Temporal and MinIO in parallel and reports where each came from.
 * Dev keeps Temporal's SQLite and MinIO's data under dataDir; tests run Temporal in memory.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? scriptLog('stack').info;
  const logsDir = path.join(options.dataDir, 'logs');
  fs.mkdirSync(logsDir, { recursive: true });
  const accessKey = process.env.S3_ACCESS_KEY ?? 'immoflow';
  const secretKey = process.env.S3_SECRET_KEY ?? 'immoflow-dev-secret';

  const results = await Promise.allSettled([
    startPostgres({ dataDir: path.join(options.dataDir, 'postgres') }),
    startTemporal({
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      dbFile: options.mode === 'dev' ? path.join(options.dataDir, 'temporal', 'temporal.db') : undefined,
      port: options.ports?.temporal,
      uiPort: options.ports?.temporalUi,
      logFile: path.join(logsDir, 'temporal.log'),
    }),
    startMinio({
      dataDir: path.join(options.dataDir, 'minio'),
      port: options.ports?.minio,
      consolePort: options.ports?.minioConsole,
      logFile: path.join(logsDir, 'minio.log'),
      accessKey,
      secretKey,
      notifications: options.storageEventsUrl
        ? {
            endpoint: options.storageEventsUrl,
            authToken: process.env.STORAGE_NOTIFICATION_TOKEN ?? DEV_STORAGE_NOTIFICATION_TOKEN,
            queueDir: path.join(options.dataDir, 'minio-events'),
          }
        : undefined,
    }),
  ]);
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) {
    await Promise.all(results.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
    throw new Error(`The stack could not start:\n${failures.map((failure) => `- ${(failure.reason as Error).message}`).join('\n')}`);
  }
  const [postgres, temporal, minio] = results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [
    PostgresHandle,
    TemporalHandle,
    MinioHandle,
  ];
  await postgres.createDatabase(options.database);

  log(`postgres: ${postgres.source}, database ${options.database}`);
  log(`temporal: ${temporal.source} at ${temporal.address}${temporal.uiUrl ? `, UI ${temporal.uiUrl}` : ''}`);
  log(`minio:    ${minio.source} at ${minio.endpoint}${minio.consoleUrl ? `, console ${minio.consoleUrl}` : ''}`);

  return {
    postgres,
    temporal,
    minio,
    env: {
      DATABASE_URL: postgres.urlFor(options.database),
      TEMPORAL_ADDRESS: temporal.address,
      S3_ENDPOINT: minio.endpoint,
      S3_ACCESS_KEY: minio.accessKey,
      S3_SECRET_KEY: minio.secretKey,
    },
    async stop() {
      await Promise.all([temporal.stop(), minio.stop()]);
      await postgres.stop();
    },
  };
}
