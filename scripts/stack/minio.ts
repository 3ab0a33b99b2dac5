import fs from 'node:fs';
import { ManagedProcess, freePort, retryOnPortRace, startProcess, waitFor } from './processes';
import { findBinary } from './tools';

export interface MinioHandle {
  endpoint: string;
  consoleUrl: string | null;
  accessKey: string;
  secretKey: string;
  source: string;
  process?: ManagedProcess;
  stop(): Promise<void>;
}

export interface MinioOptions {
  dataDir: string;
  port?: number;
  consolePort?: number;
  logFile: string;
  accessKey: string;
  secretKey: string;
  /** Where MinIO POSTs bucket notifications (the API's storage-event endpoint), with its token. */
  notifications?: { endpoint: string; authToken: string; queueDir: string };
}

/** The MinIO webhook target `IMMOFLOW`, whose ARN is S3_NOTIFICATION_ARN's default. */
export function notificationTargetEnv(notifications: NonNullable<MinioOptions['notifications']>): Record<string, string> {
  return {
    MINIO_NOTIFY_WEBHOOK_ENABLE_IMMOFLOW: 'on',
    MINIO_NOTIFY_WEBHOOK_ENDPOINT_IMMOFLOW: notifications.endpoint,
    MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_IMMOFLOW: notifications.authToken,
    // Events wait on disk while the API is down and are retried, instead of being dropped.
    MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_IMMOFLOW: notifications.queueDir,
  };
}

async function isLive(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

/** S3_ENDPOINT of a running S3, else a MinIO server we own. */
export async function startMinio(options: MinioOptions): Promise<MinioHandle> {
  const external = process.env.S3_ENDPOINT;
  if (external) {
    return {
      endpoint: external,
      consoleUrl: null,
      accessKey: process.env.S3_ACCESS_KEY ?? options.accessKey,
      secretKey: process.env.S3_SECRET_KEY ?? options.secretKey,
      source: `running S3 (S3_ENDPOINT=${external})`,
      stop: async () => undefined,
    };
  }
  const binary = findBinary('minio');
  fs.mkdirSync(options.dataDir, { recursive: true });
  if (options.notifications) fs.mkdirSync(options.notifications.queueDir, { recursive: true });
  return retryOnPortRace('minio', options.logFile, async () => {
    const port = options.port ?? (await freePort());
    const consolePort = options.consolePort ?? (await freePort());
    const child = startProcess(
      'minio',
      binary.path,
      ['server', options.dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
      {
        logFile: options.logFile,
        env: {
          ...process.env,
          MINIO_ROOT_USER: options.accessKey,
          MINIO_ROOT_PASSWORD: options.secretKey,
          MINIO_BROWSER_REDIRECT: 'off',
          MINIO_UPDATE: 'off',
          ...(options.notifications ? notificationTargetEnv(options.notifications) : {}),
        },
      },
    );
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`MinIO (${binary.path})`, () => isLive(endpoint), 60_000, child, options.logFile);
    } catch (error) {
      await child.stop();
      throw error;
    }
    return {
      endpoint,
      consoleUrl: `http://127.0.0.1:${consolePort}`,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      source: binary.source,
      process: child,
      stop: () => child.stop(),
    };
  });
}
