import { Client, NotificationConfig, ObjectCreatedAll, QueueConfig } from 'minio';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { IMAGE_VARIANTS, ImageVariantName, UPLOAD_PREFIX, VARIANT_PREFIX, imageObjectKeys } from '../domain/images';
import { StorageConfig, createStorageClient } from '../storage/minio';
import type { DerivedImage } from './derive';

type ImageStorageConfig = StorageConfig & Pick<Config, 'S3_PUBLIC_ENDPOINT' | 'S3_NOTIFICATION_ARN'>;

export const NOTIFICATIONS_OFF = 'off';

/** A variant as stored: its object key and size; its URL derives from the key (variantUrl). */
export interface StoredVariant {
  name: ImageVariantName;
  key: string;
  width: number;
  height: number;
}

/** Variant URLs are content-addressed by image id and never rewritten: cache them for a year. */
const VARIANT_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Writes the variants `deriveVariants` made for image `imageId` (an upload or an attachment) to the
 * images bucket, where `variantUrl` serves them from.
 */
export function storeVariants(storage: Client, config: Pick<Config, 'S3_BUCKET_IMAGES'>, imageId: string, derived: DerivedImage): Promise<StoredVariant[]> {
  return Promise.all(
    derived.variants.map(async (variant) => {
      const key = imageObjectKeys.variant(imageId, variant.name);
      await storage.putObject(config.S3_BUCKET_IMAGES, key, variant.data, variant.data.length, { 'Content-Type': 'image/webp', 'Cache-Control': VARIANT_CACHE_CONTROL });
      return { name: variant.name, key, width: variant.width, height: variant.height };
    }),
  );
}

function publicEndpoint(config: Pick<ImageStorageConfig, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT'>): string {
  return (config.S3_PUBLIC_ENDPOINT ?? config.S3_ENDPOINT).replace(/\/+$/, '');
}

/**
 * URLs handed to clients name the public S3 endpoint, which may differ from the one our services
 * use (a load balancer, a CDN, `localhost` outside the compose network). A SigV4 signature covers
 * the host, so presigning uses a client configured for that endpoint. With the region set, the
 * minio client presigns locally, without a request.
 */
export function createPublicPresigner(config: ImageStorageConfig) {
  const client = createStorageClient({ ...config, S3_ENDPOINT: publicEndpoint(config) });
  return {
    uploadUrl: (objectKey: string, expirySeconds: number) => client.presignedPutObject(config.S3_BUCKET_IMAGES, objectKey, expirySeconds),
  };
}

export type PublicPresigner = ReturnType<typeof createPublicPresigner>;

/** Variants are public-read objects: stable URLs a CRM can store and a CDN can cache. */
export function variantUrl(config: Pick<ImageStorageConfig, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT' | 'S3_BUCKET_IMAGES'>, imageId: string, variant: ImageVariantName): string {
  return `${publicEndpoint(config)}/${config.S3_BUCKET_IMAGES}/${imageObjectKeys.variant(imageId, variant)}`;
}

/** Anonymous GET on the variants prefix only; uploads (the originals) stay private. */
export function variantsReadPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: ['s3:GetObject'],
        Resource: [`arn:aws:s3:::${bucket}/${VARIANT_PREFIX}*`],
      },
    ],
  });
}

/**
 * Makes the images bucket serve variants publicly and, where the store supports it, tell us about
 * finished uploads (a MinIO webhook target, see docs/IMAGES.md). Without notifications the
 * ingest workflow still finds uploads by polling, so a failure here is logged, never fatal.
 */
export async function configureImageBucket(client: Client, config: ImageStorageConfig, logger: Logger): Promise<{ notifications: boolean }> {
  await client.setBucketPolicy(config.S3_BUCKET_IMAGES, variantsReadPolicy(config.S3_BUCKET_IMAGES));
  if (config.S3_NOTIFICATION_ARN === NOTIFICATIONS_OFF) return { notifications: false };
  const notification = new NotificationConfig();
  const queue = new QueueConfig(config.S3_NOTIFICATION_ARN);
  queue.addEvent(ObjectCreatedAll);
  queue.addFilterPrefix(UPLOAD_PREFIX);
  notification.add(queue);
  try {
    await client.setBucketNotification(config.S3_BUCKET_IMAGES, notification);
    return { notifications: true };
  } catch (error) {
    logger.warn(
      { err: error, arn: config.S3_NOTIFICATION_ARN },
      'bucket notifications unavailable; image uploads are found by polling (IMAGE_UPLOAD_POLL_INTERVAL)',
    );
    return { notifications: false };
  }
}

/** Every object of one image: the original and each variant. Removing absent keys is a no-op. */
export async function removeImageObjects(client: Client, config: ImageStorageConfig, image: { orgId: string; listingId: string; imageId: string }): Promise<void> {
  const keys = [
    imageObjectKeys.original(image.orgId, image.listingId, image.imageId),
    ...IMAGE_VARIANTS.map((variant) => imageObjectKeys.variant(image.imageId, variant.name)),
  ];
  const results = await client.removeObjects(config.S3_BUCKET_IMAGES, keys);
  const failed = results.filter((result) => result?.Error);
  if (failed.length > 0) throw new Error(`could not remove ${failed.length} object(s) of image ${image.imageId}: ${JSON.stringify(failed).slice(0, 500)}`);
}
