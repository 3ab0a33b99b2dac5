import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import {
  ImageContentType,
  ImageIngestInput,
  ImageState,
  MAX_IMAGES_PER_LISTING,
  MAX_IMAGE_BYTES,
  imageObjectKeys,
  uploadGraceMs,
} from '../domain/images';
import type { ImageFailureCode, ImageVariantName } from '../domain/images';
import { workflowIds } from '../domain/workflowIds';
import { appendEvent } from '../events/service';
import { ApiError } from '../http/errors';
import type { AuthContext } from '../identity/authContext';
import { enqueueWorkflowStart, enqueueWorkflowStarts } from '../outbox/service';
import { oweSyncsForListings } from '../targets/publicationStarts';
import { taskQueues } from '../temporal/taskQueues';
import { IMAGE_LIMIT_MESSAGE, CreateImageInput, ListingImageDto } from './schema';
import { PublicPresigner, StoredVariant, variantUrl } from './storage';


export interface ListingImageRow {
  id: string;
  org_id: string;
  listing_id: string;
  filename: string;
  content_type: ImageContentType;
  declared_size: number;
  sort_order: number;
  state: ImageState;
  failure_code: ImageFailureCode | null;
  failure_message: string | null;
  object_key: string;
  size: string | null;
  detected_type: string | null;
  width: number | null;
  height: number | null;
  variants: StoredVariant[];
  upload_token_hash: string;
  upload_token_used_at: Date | null;
  upload_expires_at: Date;
  created_at: Date;
  updated_at: Date;
  ready_at: Date | null;
  deleted_at: Date | null;
}

type ImageConfig = Pick<
  Config,
  | 'PUBLICATION_RETRY_SCHEDULE'
  | 'S3_ENDPOINT'
  | 'S3_PUBLIC_ENDPOINT'
  | 'S3_BUCKET_IMAGES'
  | 'IMAGE_UPLOAD_URL_TTL'
  | 'IMAGE_UPLOAD_POLL_INTERVAL'
  | 'TEMPORAL_TASK_QUEUE'
  | 'WEBHOOK_RETRY_SCHEDULE'
>;

const LISTING_NOT_FOUND = 'No listing with this id in your organization.';
export const IMAGE_NOT_FOUND = 'No image with this id on this listing.';

export const newImageId = () => `img_${randomBytes(12).toString('hex')}`;
const newUploadToken = () => `iut_${randomBytes(24).toString('base64url')}`;
const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

function tokenMatches(token: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function toImageDto(config: Pick<Config, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT' | 'S3_BUCKET_IMAGES'>, row: ListingImageRow): ListingImageDto {
  return {
    id: row.id,
    filename: row.filename,
    content_type: row.content_type,
    size: row.size === null ? row.declared_size : Number(row.size),
    sort_order: row.sort_order,
    state: row.state,
    failure: row.failure_code ? { code: row.failure_code, message: row.failure_message ?? '' } : null,
    width: row.width,
    height: row.height,
    variants:
      row.state === 'ready'
        ? row.variants.map((variant) => ({
            name: variant.name,
            url: variantUrl(config, row.id, variant.name),
            width: variant.width,
            height: variant.height,
            content_type: 'image/webp' as const,
          }))
        : [],
    upload_expires_at: row.upload_expires_at.toISOString(),
    created_at: row.created_at.toISOString(),
    ready_at: row.ready_at?.toISOString() ?? null,
  };
}

/** Images of one or more listings, in gallery order; deleted ones are gone from every view. */
export async function loadListingImages(executor: Db, listingIds: string[]): Promise<Map<string, ListingImageRow[]>> {
  const byListing = new Map<string, ListingImageRow[]>(listingIds.map((id) => [id, []]));
  if (listingIds.length === 0) return byListing;
  const rows: ListingImageRow[] = await executor('listing_images')
    .whereIn('listing_id', listingIds)
    .whereNull('deleted_at')
    .orderBy([{ column: 'listing_id' }, { column: 'sort_order' }, { column: 'created_at' }]);
  for (const row of rows) byListing.get(row.listing_id)?.push(row);
  return byListing;
}

/** One imageRemoval per image (deleting its objects), owed by the caller's transaction. */
function oweImageRemovals(trx: Db, taskQueue: string, listing: { orgId: string; listingId: string; externalRef: string }, imageIds: string[]): Promise<void> {
  return enqueueWorkflowStarts(
    trx,
    imageIds.map((imageId) => ({
      workflowType: 'imageRemoval',
      workflowId: workflowIds.imageRemoval(imageId),
      taskQueue,
      args: [{ orgId: listing.orgId, listingId: listing.listingId, imageId }],
      searchAttributes: { OrgId: [listing.orgId], ListingId: [listing.listingId], ExternalRef: [listing.externalRef] },
    })),
    listing.orgId,
  );
}

/**
 * A deleted listing takes its images along: hidden now, their objects removed by workflows owed
 * in the same transaction.
 */
export async function removeImagesOfListing(trx: Db, taskQueue: string, listing: { orgId: string; listingId: string; externalRef: string }): Promise<void> {
  const removed: { id: string }[] = await trx('listing_images')
    .where({ listing_id: listing.listingId })
    .whereNull('deleted_at')
    .update({ deleted_at: trx.fn.now(), updated_at: trx.fn.now() })
    .returning('id');
  await oweImageRemovals(trx, taskQueue, listing, removed.map((row) => row.id));
}

/** Fills in the gallery of listing DTOs (one query for all of them). */
export async function withImages<T extends { id: string; images: ListingImageDto[] }>(
  executor: Db,
  config: Pick<Config, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT' | 'S3_BUCKET_IMAGES'>,
  listings: T[],
): Promise<T[]> {
  const byListing = await loadListingImages(executor, listings.map((listing) => listing.id));
  return listings.map((listing) => ({ ...listing, images: (byListing.get(listing.id) ?? []).map((row) => toImageDto(config, row)) }));
}

/** The listing-images half of the API (reference 000 step 4); the bytes never pass through here. */
export function createImageService(db: Db, config: ImageConfig, presigner: PublicPresigner) {
  async function lockListing(trx: Db, auth: AuthContext, listingId: string): Promise<{ id: string; external_ref: string }> {
    const listing = await trx('listings').where({ id: listingId, org_id: auth.orgId }).whereNull('deleted_at').forUpdate().first('id', 'external_ref');
    if (!listing) throw ApiError.notFound(LISTING_NOT_FOUND);
    return listing;
  }

  async function findImage(executor: Db, auth: AuthContext, listingId: string, imageId: string, lock = false): Promise<ListingImageRow> {
    const query = executor('listing_images').where({ id: imageId, listing_id: listingId, org_id: auth.orgId }).whereNull('deleted_at').first();
    if (lock) query.forUpdate();
    const row: ListingImageRow | undefined = await query;
    if (!row) throw ApiError.notFound(IMAGE_NOT_FOUND);
    return row;
  }

  function oweIngest(trx: Db, auth: AuthContext, listing: { id: string; external_ref: string }, row: ListingImageRow): Promise<void> {
    const input: ImageIngestInput = {
      orgId: auth.orgId,
      listingId: listing.id,
      externalRef: listing.external_ref,
      imageId: row.id,
      objectKey: row.object_key,
      declaredType: row.content_type,
      // The presigned PUT cannot bound the size; the ingest enforces the documented limit.
      maxBytes: MAX_IMAGE_BYTES,
      uploadExpiresAt: row.upload_expires_at.toISOString(),
      uploadGraceMs: uploadGraceMs(config.IMAGE_UPLOAD_URL_TTL),
      pollIntervalMs: config.IMAGE_UPLOAD_POLL_INTERVAL,
    };
    return enqueueWorkflowStart(
      trx,
      {
        workflowType: 'imageIngest',
        workflowId: workflowIds.imageIngest(row.id),
        taskQueue: taskQueues(config).main,
        args: [input],
        searchAttributes: { OrgId: [auth.orgId], ListingId: [listing.id], ExternalRef: [listing.external_ref] },
      },
      auth.orgId,
    );
  }

  return {
    /** Reserves an image: its row and its ingest workflow commit together, then the URL is signed. */
    async create(auth: AuthContext, listingId: string, input: CreateImageInput, beforeCommit?: (trx: Db, ticket: UploadTicket) => Promise<void>) {
      return db.transaction(async (trx) => {
        const listing = await lockListing(trx, auth, listingId);
        const [{ count, max_sort: maxSort }] = await trx('listing_images')
          .where({ listing_id: listing.id })
          .whereNull('deleted_at')
          .select(trx.raw('count(*)::int as count'), trx.raw('max(sort_order) as max_sort'));
        if (count >= MAX_IMAGES_PER_LISTING) throw ApiError.forbidden(IMAGE_LIMIT_MESSAGE, { limit: MAX_IMAGES_PER_LISTING });

        const id = newImageId();
        const token = newUploadToken();
        const expiresAt = new Date(Date.now() + config.IMAGE_UPLOAD_URL_TTL);
        const [row]: ListingImageRow[] = await trx('listing_images')
          .insert({
            id,
            org_id: auth.orgId,
            listing_id: listing.id,
            filename: input.filename,
            content_type: input.content_type,
            declared_size: input.size,
            sort_order: input.sort_order ?? (maxSort === null ? 0 : Number(maxSort) + 1),
            object_key: imageObjectKeys.original(auth.orgId, listing.id, id),
            upload_token_hash: hashToken(token),
            upload_expires_at: expiresAt,
          })
          .returning('*');
        await oweIngest(trx, auth, listing, row);
        const ticket: UploadTicket = {
          image_id: id,
          upload_url: await presigner.uploadUrl(row.object_key, Math.ceil(config.IMAGE_UPLOAD_URL_TTL / 1000)),
          upload_token: token,
          expires_at: expiresAt.toISOString(),
        };
        await beforeCommit?.(trx, ticket);
        return ticket;
      });
    },

    /**
     * Checks the single-use token and marks it spent. The caller signals the ingest inside the
     * same transaction, so a token is only spent when the signal went out.
     */
    async spendUploadToken(auth: AuthContext, listingId: string, imageId: string, token: string, signal: () => Promise<void>): Promise<ListingImageDto> {
      return db.transaction(async (trx) => {
        const row = await findImage(trx, auth, listingId, imageId, true);
        if (!tokenMatches(token, row.upload_token_hash)) throw ApiError.forbidden('upload_token is not the token issued for this image.');
        if (row.upload_token_used_at) throw new ApiError(409, 'CONFLICT', 'upload_token has already been used.');
        const [updated]: ListingImageRow[] = await trx('listing_images')
          .where({ id: row.id })
          .update({ upload_token_used_at: trx.fn.now(), updated_at: trx.fn.now() })
          .returning('*');
        await signal();
        return toImageDto(config, updated);
      });
    },

    async get(auth: AuthContext, listingId: string, imageId: string): Promise<ListingImageDto> {
      return toImageDto(config, await findImage(db, auth, listingId, imageId));
    },

    async reorder(auth: AuthContext, listingId: string, imageId: string, sortOrder: number): Promise<ListingImageDto> {
      const row = await findImage(db, auth, listingId, imageId);
      const [updated]: ListingImageRow[] = await db('listing_images')
        .where({ id: row.id })
        .update({ sort_order: sortOrder, updated_at: db.fn.now() })
        .returning('*');
      return toImageDto(config, updated);
    },

    /**
     * Hides the image at once and owes the removal of its objects to a workflow, so a storage
     * outage delays the clean-up but never loses it. Emits listing.image.deleted.
     */
    async remove(auth: AuthContext, listingId: string, imageId: string, beforeCommit?: (trx: Db) => Promise<void>) {
      return db.transaction(async (trx) => {
        const listing = await lockListing(trx, auth, listingId);
        const row = await findImage(trx, auth, listing.id, imageId, true);
        await trx('listing_images').where({ id: row.id }).update({ deleted_at: trx.fn.now(), updated_at: trx.fn.now() });
        await appendEvent(trx, auth.orgId, 'listing.image.deleted', { listingId: listing.id, externalRef: listing.external_ref, imageId: row.id }, config);
        await oweSyncsForListings(trx, config, auth.orgId, [listing.id]);
        await oweImageRemovals(trx, taskQueues(config).main, { orgId: auth.orgId, listingId: listing.id, externalRef: listing.external_ref }, [row.id]);
        await beforeCommit?.(trx);
      });
    },
  };
}

export interface UploadTicket {
  image_id: string;
  upload_url: string;
  upload_token: string;
  expires_at: string;
}

export type ImageService = ReturnType<typeof createImageService>;
