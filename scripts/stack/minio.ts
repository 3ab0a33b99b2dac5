import fs from 'node:fs';
import { ManagedProcess, freePort, startProcess, waitFor } from './processes';
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
  const port = options.port ?? (await freePort());
  const consolePort = options.consolePort ?? (await freePort());
  fs.mkdirSync(options.dataDir, { recursive: true });
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
}
