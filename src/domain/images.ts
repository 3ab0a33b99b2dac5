/**
 * Listing images (reference 000, step 4): the rules the API and the imageIngest workflow share.
 * Pure code: no I/O, safe to import from workflows.
 */

export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type ImageContentType = (typeof IMAGE_CONTENT_TYPES)[number];

/** 5 MB, counted in binary megabytes: 5 × 1024 × 1024 = 5,242,880 bytes. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** A listing portal shows a few dozen photos; more is almost always a CRM bug looping. */
export const MAX_IMAGES_PER_LISTING = 50;

/** Characters an image's file name may not hold: a path separator would name another object, a control character breaks a header. */
const FILENAME_FORBIDDEN = /[\\/\u0000-\u001f]/;

/** Whether `name` is a plain file name (the rule POST /images enforces). */
export function isPlainFilename(name: string): boolean {
  return !FILENAME_FORBIDDEN.test(name);
}

/** `name` made plain and at most `maxLength` long, for a file name Immoflow derives itself (from a URL). */
export function plainFilename(name: string, maxLength = 200): string {
  return name.replace(new RegExp(FILENAME_FORBIDDEN.source, 'g'), '').slice(0, maxLength);
}

export const IMAGE_STATES = ['awaiting_upload', 'processing', 'ready', 'failed'] as const;
export type ImageState = (typeof IMAGE_STATES)[number];

/** The derived variants, all WebP; never enlarged beyond the original. */
export const IMAGE_VARIANTS = [
  { name: 'thumbnail', maxWidth: 400, quality: 75 },
  { name: 'large', maxWidth: 1600, quality: 82 },
] as const;
export type ImageVariantName = (typeof IMAGE_VARIANTS)[number]['name'];

export const IMAGE_FAILURE_CODES = ['UPLOAD_EXPIRED', 'FILE_TOO_LARGE', 'EMPTY_FILE', 'TYPE_MISMATCH', 'UNDECODABLE', 'PROCESSING_FAILED'] as const;
export type ImageFailureCode = (typeof IMAGE_FAILURE_CODES)[number];

export interface ImageFailure {
  code: ImageFailureCode;
  message: string;
}

/**
 * A PUT that the storage accepted just before the URL expired may still be finishing: the
 * ingest waits a little longer than expires_at (a minute, less for short-lived URLs) before it
 * calls the upload expired.
 */
export function uploadGraceMs(urlTtlMs: number): number {
  return Math.min(60_000, urlTtlMs);
}

const IMAGE_ID_PATTERN = /^img_[0-9a-f]{24}$/;

export function isImageId(value: unknown): value is string {
  return typeof value === 'string' && IMAGE_ID_PATTERN.test(value);
}

/** Private: where the client's PUT lands. Bucket notifications listen on this prefix only. */
export const UPLOAD_PREFIX = 'uploads/';
/** Public-read: derived variants, served straight from the bucket (or a CDN in front of it). */
export const VARIANT_PREFIX = 'variants/';

export const imageObjectKeys = {
  original: (orgId: string, listingId: string, imageId: string) => `${UPLOAD_PREFIX}${orgId}/${listingId}/${imageId}`,
  variant: (imageId: string, variant: ImageVariantName) => `${VARIANT_PREFIX}${imageId}/${variant}.webp`,
  variantPrefix: (imageId: string) => `${VARIANT_PREFIX}${imageId}/`,
} as const;

/** The image an uploaded object belongs to, from the key a bucket notification names. */
export function imageIdFromObjectKey(key: string): string | null {
  if (!key.startsWith(UPLOAD_PREFIX)) return null;
  const id = key.slice(key.lastIndexOf('/') + 1);
  return isImageId(id) ? id : null;
}

/** Size rules that need no bytes, checked before anything is downloaded. */
export function checkStoredSize(size: number, maxBytes: number): ImageFailure | null {
  if (size === 0) return { code: 'EMPTY_FILE', message: 'The uploaded file is empty.' };
  if (size > maxBytes) {
    return { code: 'FILE_TOO_LARGE', message: `The uploaded file has ${size} bytes; the limit is ${maxBytes} bytes.` };
  }
  return null;
}

/** The declared type must be what the magic bytes say; `detected` is undefined when unknown. */
export function checkDetectedType(declared: ImageContentType, detected: string | undefined): ImageFailure | null {
  if (detected === declared) return null;
  return {
    code: 'TYPE_MISMATCH',
    message: detected
      ? `The file was declared as ${declared} but its content is ${detected}.`
      : `The file was declared as ${declared} but its content is not a recognised image.`,
  };
}

/**
 * How long the ingest sleeps before it looks for the upload again: until the next poll, but never
 * past the deadline; null once the deadline has passed.
 */
export function nextUploadCheckInMs(nowMs: number, deadlineMs: number, pollIntervalMs: number): number | null {
  const remaining = deadlineMs - nowMs;
  if (remaining <= 0) return null;
  return Math.min(pollIntervalMs, remaining);
}

/** Arguments of the imageIngest workflow; persisted in the outbox, so plain JSON only. */
export interface ImageIngestInput {
  orgId: string;
  listingId: string;
  /** The listing's external_ref (immutable), for the events' payloads. */
  externalRef: string;
  imageId: string;
  objectKey: string;
  declaredType: ImageContentType;
  maxBytes: number;
  /** The presigned URL's expiry (ISO 8601). */
  uploadExpiresAt: string;
  /** How long after the expiry a late upload is still accepted. */
  uploadGraceMs: number;
  /** The fallback for stores without bucket notifications: look with statObject this often. */
  pollIntervalMs: number;
}

export type ImageIngestResult =
  | { outcome: 'ready'; width: number; height: number }
  | { outcome: 'failed'; failure: ImageFailure }
  | { outcome: 'deleted' };
