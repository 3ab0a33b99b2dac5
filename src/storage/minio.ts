import { Client } from 'minio';
import type { Config } from '../config';

export type StorageConfig = Pick<
  Config,
  'S3_ENDPOINT' | 'S3_REGION' | 'S3_ACCESS_KEY' | 'S3_SECRET_KEY' | 'S3_BUCKET_IMAGES' | 'S3_BUCKET_ATTACHMENTS' | 'S3_BUCKET_MAIL'
>;

/**
 * `partSize` (at least 5 MB) bounds what a streamed upload of unknown length holds in memory:
 * the client buffers one part at a time (the attachment fetcher uses 5 MB).
 */
export function createStorageClient(config: StorageConfig, options: { partSize?: number } = {}): Client {
  const url = new URL(config.S3_ENDPOINT);
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    useSSL: url.protocol === 'https:',
    accessKey: config.S3_ACCESS_KEY,
    secretKey: config.S3_SECRET_KEY,
    region: config.S3_REGION,
    pathStyle: true,
    ...(options.partSize ? { partSize: options.partSize } : {}),
  });
}

export function bucketNames(config: StorageConfig): string[] {
  return [config.S3_BUCKET_IMAGES, config.S3_BUCKET_ATTACHMENTS, config.S3_BUCKET_MAIL];
}

/** Creates the buckets Immoflow writes to; safe to call on every start. */
export async function ensureBuckets(client: Client, config: StorageConfig): Promise<void> {
  for (const bucket of bucketNames(config)) {
    if (!(await client.bucketExists(bucket))) {
      try {
        await client.makeBucket(bucket, config.S3_REGION);
      } catch (error) {
        // Another process created it between our check and our create.
        if ((error as { code?: string }).code !== 'BucketAlreadyOwnedByYou') throw error;
      }
    }
  }
}
