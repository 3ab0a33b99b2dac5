import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router } from 'express';
import { imageIdFromObjectKey } from '../domain/images';
import type { AppDeps } from '../http/app';
import { ApiError } from '../http/errors';
import { signalUploaded } from './routes';

interface S3EventRecord {
  eventName?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string } };
}

export const STORAGE_EVENTS_PATH = '/internal/storage/events';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares digests, so neither the length nor the content of the token leaks through timing. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(digest(presented), digest(token));
}

/** Image ids named by an S3 event notification's records (object keys arrive URL-encoded). */
export function uploadedImageIds(body: unknown, bucket: string): string[] {
  const records = (body as { Records?: S3EventRecord[] })?.Records;
  if (!Array.isArray(records)) return [];
  const ids = records
    .filter((record) => record?.eventName?.startsWith('s3:ObjectCreated:') && record.s3?.bucket?.name === bucket)
    .map((record) => imageIdFromObjectKey(decodeURIComponent((record.s3?.object?.key ?? '').replace(/\+/g, ' '))))
    .filter((id): id is string => id !== null);
  return [...new Set(ids)];
}

/**
 * The target of MinIO's bucket notifications (a webhook target with an auth token, see
 * docs/IMAGES.md). A notification is only a wake-up for the image's ingest workflow, which then
 * checks the store itself, so a forged or replayed one could do no more than cause a look.
 * Internal: it is not under /api/v1 and takes no API key; without STORAGE_NOTIFICATION_TOKEN it
 * does not exist. Answering 5xx makes MinIO keep the event (queue_dir) and retry it.
 */
export function storageEventsRouter(deps: AppDeps): Router {
  const router = Router();
  const token = deps.config.STORAGE_NOTIFICATION_TOKEN;
  if (!token) return router;
  router.post(STORAGE_EVENTS_PATH, express.json({ limit: '256kb', type: () => true }), async (req, res) => {
    if (!bearerMatches(req.get('authorization'), token)) {
      throw new ApiError(401, 'UNAUTHENTICATED', 'A storage event needs the configured bearer token.');
    }
    const ids = uploadedImageIds(req.body, deps.config.S3_BUCKET_IMAGES);
    await Promise.all(ids.map((id) => signalUploaded(deps, id)));
    res.status(204).end();
  });
  return router;
}
