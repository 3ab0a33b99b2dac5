import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client as StorageClient } from 'minio';
import { Agent } from 'undici';
import { STREAM_PART_BYTES, TransientFetchError, fetchIntoStore, removeStored } from '../src/attachments/fetcher';
import type { AttachmentRow } from '../src/attachments/service';
import type { Db } from '../src/db/knex';
import {
  AttachmentFailure,
  AttachmentKind,
  AttachmentOutcome,
  KnownContent,
  PropertyProcessingInput,
  attachmentObjectKey,
  firstFailure,
  hostOf,
  revalidationOf,
} from '../src/domain/attachments';
import { IMAGE_VARIANTS, imageObjectKeys } from '../src/domain/images';
import { appendEvent } from '../src/events/service';
import { createGuardedDispatcher, resolverFromConfig } from '../src/http/ssrfGuard';
import { DerivedImage, deriveVariants } from '../src/images/derive';
import { StoredVariant, storeVariants } from '../src/images/storage';
import { ListingPublicDto, ListingRow, listingEventPayload, toListingDto } from '../src/listings/dto';
import { withRelations } from '../src/listings/relations';
import { createStorageClient } from '../src/storage/minio';
import { oweSyncsForListings } from '../src/targets/publicationStarts';
import { keyedLimiter } from '../src/temporal/keyedLimiter';
import type { ActivityDeps } from './deps';

export interface ProcessingItem {
  id: string;
  url: string;
  kind: AttachmentKind;
  host: string;
  /** Set for a ready attachment this run revalidates instead of downloading again. */
  known: KnownContent | null;
}

export interface ProcessingPlan {
  /** Every attachment id in request order, and each one's URL. */
  order: string[];
  urls: Record<string, string>;
  /** Attachments to fetch, in request order. */
  items: ProcessingItem[];
  /** Attachments already ready with no ETag to revalidate by: settled without a request. */
  settled: AttachmentOutcome[];
  limits: { perListing: number; perHost: number; retryInitialIntervalMs: number; timeoutMs: number };
}

export interface FetchedAttachment {
  objectKey: string;
  contentType: string;
  size: number;
  sha256: string;
  etag: string | null;
  width: number | null;
  height: number | null;
  variants: StoredVariant[];
}

/**
 * `unchanged`: a revalidated attachment is as stored (a 304, or the same sha256); its row stays.
 * `hostBusy`: its host had no free slot in this worker; nothing was requested, try again later.
 */
export type FetchAttachmentVerdict =
  | { ok: true; result: FetchedAttachment }
  | { ok: true; unchanged: true }
  | { ok: false; failure: AttachmentFailure }
  | { ok: false; hostBusy: true };

/** How long a fetch waits for a slot of its host before it hands its activity slot back. */
const HOST_SLOT_WAIT_MS = 2000;

/** The outcome of one attachment as the workflow reports it to `completePropertyProcessing`. */
export type SettledAttachment = AttachmentOutcome & { result?: FetchedAttachment };

export type CompleteResult = { applied: false } | { applied: true; eventName: 'property.processing_succeeded' | 'property.processing_failed' };


/** The propertyProcessing workflow's I/O: guarded HTTP, the attachments bucket, the attachment rows. */
export function createAttachmentActivities(deps: ActivityDeps) {
  const { db, config, storage } = deps;
  const bucket = config.S3_BUCKET_ATTACHMENTS;
  // Connections are pinned to the address the guard judged; pooled per origin.
  const dispatcher = createGuardedDispatcher({
    allowTargets: config.ATTACHMENT_ALLOW_TARGETS,
    resolve: deps.resolve ?? resolverFromConfig(config),
    agentOptions: { connections: 64, bodyTimeout: config.ATTACHMENT_TIMEOUT, headersTimeout: config.ATTACHMENT_TIMEOUT },
  });
  // At most ATTACHMENT_CONCURRENCY_PER_HOST fetches per host in this worker, across listings: a
  // slow host's backlog waits for its own slots and cannot hold every activity slot.
  const hostSlots = keyedLimiter(config.ATTACHMENT_CONCURRENCY_PER_HOST);
  // Streams bodies of unknown length in 5 MB parts instead of buffering them whole.
  const streamingStorage: StorageClient = createStorageClient(config, { partSize: STREAM_PART_BYTES });
  // Streamed PUTs of bodies with a Content-Length, one connection per fetch in flight.
  const storeDispatcher = new Agent({ connections: 128, bodyTimeout: config.ATTACHMENT_TIMEOUT, headersTimeout: config.ATTACHMENT_TIMEOUT });

  async function removeVariants(attachmentId: string): Promise<void> {
    await storage.removeObjects(config.S3_BUCKET_IMAGES, IMAGE_VARIANTS.map((variant) => imageObjectKeys.variant(attachmentId, variant.name)));
  }

  async function removeAttachmentObjects(attachmentId: string, objectKey: string | null): Promise<void> {
    if (objectKey) await removeStored({ storage, bucket, objectKey });
    await removeVariants(attachmentId);
  }

  /** The listing at this attachments revision, locked; undefined when a later write superseded it. */
  function lockAtRevision(trx: Db, input: PropertyProcessingInput): Promise<ListingRow | undefined> {
    return trx('listings')
      .where({ id: input.listingId, org_id: input.orgId, attachments_revision: input.revision })
      .whereNull('deleted_at')
      .forUpdate()
      .first();
  }

  async function currentDto(trx: Db, listingId: string): Promise<ListingPublicDto> {
    const row: ListingRow = await trx('listings as l').leftJoin('users as u', 'u.id', 'l.owner_user_id').where('l.id', listingId).first('l.*', 'u.email as owner_email');
    const [dto] = await withRelations(trx, config, [toListingDto(row)]);
    return dto;
  }

  /** The body of fetchAttachment: guarded fetch into the store, then an image's variants. */
  async function fetchAndStore(input: PropertyProcessingInput, item: ProcessingItem, progress: (bytes: number) => void): Promise<FetchAttachmentVerdict> {
    const context = Context.current();
    const objectKey = attachmentObjectKey(input.orgId, input.listingId, item.id, input.revision);
    const signal = AbortSignal.any([context.cancellationSignal, AbortSignal.timeout(config.ATTACHMENT_TIMEOUT)]);
    let verdict;
    try {
      verdict = await fetchIntoStore({
        url: item.url,
        kind: item.kind,
        bucket,
        objectKey,
        maxBytes: config.ATTACHMENT_MAX_BYTES,
        allowTargets: config.ATTACHMENT_ALLOW_TARGETS,
        dispatcher,
        storage: streamingStorage,
        storeDispatcher,
        signal,
        progress,
        ifNoneMatch: item.known?.etag,
      });
    } catch (error) {
      if (error instanceof TransientFetchError) {
        throw ApplicationFailure.create({ type: 'TransientFetchError', message: error.failure.message, details: [error.failure] });
      }
      throw error;
    }
    if (!verdict.ok) return verdict;
    if ('notModified' in verdict) return { ok: true, unchanged: true };
    const { body } = verdict;
    if (item.known?.sha256 === body.sha256) {
      // The ETag changed but the bytes did not (several CDN nodes, a re-save): keep the copy and
      // its variants, and drop the one just written.
      await removeStored({ storage, bucket, objectKey });
      return { ok: true, unchanged: true };
    }
    let derived: DerivedImage | null = null;
    if (body.bytes) {
      try {
        derived = await deriveVariants(body.bytes);
      } catch (error) {
        await removeStored({ storage, bucket, objectKey });
        return { ok: false, failure: { code: 'decode_failed', message: `The image does not decode: ${(error as Error).message}` } };
      }
    }
    const variants: StoredVariant[] = derived ? await storeVariants(storage, config, item.id, derived) : [];
    return {
      ok: true,
      result: { objectKey, contentType: body.contentType, size: body.size, sha256: body.sha256, etag: body.etag, width: derived?.width ?? null, height: derived?.height ?? null, variants },
    };
  }

  return {
    /**
     * What this run must fetch; null when a later write superseded the revision (it writes
     * nothing). Deletes the stored objects of attachments the write removed.
     */
    async loadProcessingPlan(input: PropertyProcessingInput): Promise<ProcessingPlan | null> {
      for (const removed of input.removed) await removeAttachmentObjects(removed.id, removed.objectKey);
      const listing = await db('listings').where({ id: input.listingId, org_id: input.orgId, attachments_revision: input.revision }).whereNull('deleted_at').first('id');
      if (!listing) return null;
      const rows: AttachmentRow[] = await db('attachments').where({ listing_id: input.listingId }).orderBy('position');
      // Fetched: every attachment not ready, and each ready one with an ETag to revalidate by.
      const planned = rows.map((row) => {
        const known = revalidationOf(row);
        return { row, known, fetch: row.state !== 'ready' || known !== null };
      });
      return {
        order: rows.map((row) => row.id),
        urls: Object.fromEntries(rows.map((row) => [row.id, row.url])),
        items: planned.filter((entry) => entry.fetch).map(({ row, known }) => ({ id: row.id, url: row.url, kind: row.kind, host: hostOf(row.url), known })),
        settled: planned.filter((entry) => !entry.fetch).map(({ row }) => ({ id: row.id, state: 'ready' as const })),
        limits: {
          perListing: config.ATTACHMENT_CONCURRENCY_PER_LISTING,
          perHost: config.ATTACHMENT_CONCURRENCY_PER_HOST,
          retryInitialIntervalMs: config.ATTACHMENT_RETRY_INITIAL_INTERVAL,
          timeoutMs: config.ATTACHMENT_TIMEOUT,
        },
      };
    },

    /**
     * Fetches one attachment into the store (heartbeating as bytes arrive) and derives an image's
     * variants. A final failure is a verdict with nothing stored; a transient one (5xx, timeout,
     * reset) throws a retryable failure for the activity's retry policy.
     */
    async fetchAttachment(input: PropertyProcessingInput, item: ProcessingItem): Promise<FetchAttachmentVerdict> {
      const context = Context.current();
      context.heartbeat({ bytes: 0 });
      // Also while waiting for a host slot, deriving variants or completing the upload, when no
      // bytes arrive: only a worker that is gone stops heartbeating.
      let received = 0;
      const beat = setInterval(() => context.heartbeat({ bytes: received }), 1000);
      try {
        const slot = await hostSlots.tryRun(item.host, HOST_SLOT_WAIT_MS, async () => {
          // Visible in the DTO while it runs; only while this revision is the listing's.
          await db('attachments')
            .where({ id: item.id, listing_id: input.listingId })
            .whereIn('state', ['pending', 'failed', 'fetching'])
            .whereExists(db('listings').where({ id: input.listingId, attachments_revision: input.revision }).select(db.raw('1')))
            .update({ state: 'fetching', updated_at: db.fn.now() });
          return fetchAndStore(input, item, (bytes) => {
            received = bytes;
            context.heartbeat({ bytes });
          });
        });
        return slot.ran ? slot.value : { ok: false, hostBusy: true };
      } finally {
        clearInterval(beat);
      }
    },


    /**
     * Every attachment settled: their states and `property.processing_succeeded` or
     * `property.processing_failed` (the first failure) commit in one transaction, only while the
     * listing is still at this attachments revision. A superseded run writes nothing; objects it
     * stored for attachments that no longer exist are deleted.
     */
    async completePropertyProcessing(input: PropertyProcessingInput, outcomes: SettledAttachment[]): Promise<CompleteResult> {
      // Copies a committed outcome replaced (a revalidation that found new content, or a failure).
      let replaced: { id: string; object_key: string | null }[] = [];
      const result = await db.transaction(async (trx): Promise<CompleteResult> => {
        const listing = await lockAtRevision(trx, input);
        if (!listing) return { applied: false };
        if ((listing as ListingRow & { attachments_processed_revision: number | null }).attachments_processed_revision === input.revision) {
          // A retry after a commit whose completion was lost: recorded already, emit nothing twice.
          const failure = firstFailure(outcomes);
          return { applied: true, eventName: failure ? 'property.processing_failed' : 'property.processing_succeeded' };
        }
        const rewritten = outcomes.filter((outcome) => outcome.result || outcome.state === 'failed');
        if (rewritten.length > 0) {
          const before: { id: string; object_key: string | null }[] = await trx('attachments').whereIn('id', rewritten.map((outcome) => outcome.id)).select('id', 'object_key');
          const kept = new Map(rewritten.map((outcome) => [outcome.id, outcome.result?.objectKey ?? null]));
          replaced = before.filter((row) => row.object_key && row.object_key !== kept.get(row.id));
        }
        for (const outcome of outcomes) {
          if (outcome.state === 'ready' && outcome.result) {
            const fetched = outcome.result;
            await trx('attachments')
              .where({ id: outcome.id, listing_id: input.listingId })
              .update({
                state: 'ready',
                failure_code: null,
                failure_message: null,
                object_key: fetched.objectKey,
                content_type: fetched.contentType,
                size: fetched.size,
                sha256: fetched.sha256,
                etag: fetched.etag,
                width: fetched.width,
                height: fetched.height,
                variants: JSON.stringify(fetched.variants),
                fetched_at: trx.fn.now(),
                updated_at: trx.fn.now(),
              });
          } else if (outcome.state === 'failed') {
            await trx('attachments')
              .where({ id: outcome.id, listing_id: input.listingId })
              .update({
                state: 'failed',
                failure_code: outcome.failure?.code ?? 'url_unreachable',
                failure_message: (outcome.failure?.message ?? '').slice(0, 1000),
                object_key: null,
                content_type: null,
                size: null,
                sha256: null,
                etag: null,
                width: null,
                height: null,
                variants: '[]',
                updated_at: trx.fn.now(),
              });
          }
        }
        await trx('listings').where({ id: input.listingId }).update({ attachments_processed_revision: input.revision });
        // Image attachments are part of the gallery every connected target shows.
        await oweSyncsForListings(trx, config, input.orgId, [input.listingId]);
        const dto = await currentDto(trx, input.listingId);
        const failure = firstFailure(outcomes);
        if (failure) {
          await appendEvent(trx, input.orgId, 'property.processing_failed', listingEventPayload(dto, { failureCode: failure.code, failureMessage: failure.message }), config);
          return { applied: true, eventName: 'property.processing_failed' };
        }
        await appendEvent(trx, input.orgId, 'property.processing_succeeded', listingEventPayload(dto), config);
        return { applied: true, eventName: 'property.processing_succeeded' };
      });
      for (const row of replaced) await removeStored({ storage, bucket, objectKey: row.object_key as string });
      if (!result.applied) {
        // Superseded: what this run stored and no row points at must go (variants too, when the
        // attachment itself is gone).
        const stored = outcomes.filter((outcome) => outcome.result);
        if (stored.length > 0) {
          const rows: { id: string; object_key: string | null }[] = await db('attachments').whereIn('id', stored.map((outcome) => outcome.id)).select('id', 'object_key');
          const current = new Map(rows.map((row) => [row.id, row.object_key]));
          for (const outcome of stored) {
            const objectKey = outcome.result?.objectKey ?? null;
            if (!current.has(outcome.id)) await removeAttachmentObjects(outcome.id, objectKey);
            else if (objectKey && current.get(outcome.id) !== objectKey) await removeStored({ storage, bucket, objectKey });
          }
        }
      }
      return result;
    },
  };
}

export type AttachmentActivities = ReturnType<typeof createAttachmentActivities>;
