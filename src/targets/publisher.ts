import type { Client as StorageClient } from 'minio';
import type { Readable } from 'node:stream';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import {
  PUSHED_LISTING_FIELDS,
  PublicationAction,
  PublicationInput,
  SyncOutcome,
  SyncRequest,
  TargetVerdict,
  decidePublicationAction,
  isTransientFailure,
  judgeTargetResponse,
} from '../domain/publications';
import { IMAGE_CONTENT_TYPES, MAX_IMAGE_BYTES, plainFilename } from '../domain/images';
import { workflowIds } from '../domain/workflowIds';
import { appendEvent } from '../events/service';
import { ListingRow, toListingDto } from '../listings/dto';
import type { StoredVariant } from '../images/storage';
import { keyedLimiter } from '../temporal/keyedLimiter';
import { createSecretBox } from '../webhooks/secretCrypto';
import { PortalClient, PortalResponse, PortalUnreachableError, pushIdempotencyKey } from './portalClient';
import { createPublicationLeases } from './publicationLease';
import { PublicationRow, TargetConnectionRow, TargetRow } from './targetRows';

export type PublisherConfig = Pick<Config, 'WEBHOOK_SECRET_ENCRYPTION_KEY' | 'S3_BUCKET_IMAGES' | 'S3_BUCKET_ATTACHMENTS' | 'TARGET_CONCURRENCY' | 'TEMPORAL_TASK_QUEUE' | 'WEBHOOK_RETRY_SCHEDULE'>;

/** An image the target's gallery should hold: an uploaded listing image or a fetched image attachment. */
interface ReadyImage {
  id: string;
  filename: string;
  content_type: string;
  sort_order: number;
  object_key: string;
  bucket: string;
}

interface PushContext {
  input: PublicationInput;
  target: TargetRow;
  apiKey: string;
  listing: ListingRow | undefined;
  publication: PublicationRow | undefined;
  images: ReadyImage[];
  /** Tells a drift repair's pushes apart from the regular ones of the same revision. */
  keyStep: string;
}

type Failure = Required<Pick<TargetVerdict, 'failureCode' | 'message'>> & Pick<TargetVerdict, 'fields' | 'retryAfterMs'>;

const FAILURE_MESSAGE_LIMIT = 2000;

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function unreachable(error: unknown): Failure {
  if (error instanceof PortalUnreachableError) return { failureCode: 'target_unavailable', message: error.message };
  throw error;
}

/** The body of an upsert (reference 000 step 1): the listing as Immoflow holds it, live. */
export function pushedListingBody(listing: ListingRow): Record<string, unknown> {
  const dto = toListingDto(listing) as unknown as Record<string, unknown>;
  return { external_ref: listing.external_ref, status: 'active', ...Object.fromEntries(PUSHED_LISTING_FIELDS.map((field) => [field, dto[field] ?? null])) };
}

/**
 * One sync of one listing with one target, the `publication` workflow's activity: decides the
 * push (upsert, delete or none), makes it through the target's listings API with the agency key,
 * and records the outcome with its `publication.*` event in one transaction, so a retried
 * activity that finds its push recorded does nothing twice.
 */
export function createPublisher(deps: { db: Db; storage: StorageClient; config: PublisherConfig; portal: PortalClient }) {
  const { db, storage, config, portal } = deps;
  const box = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY as string);
  // At most TARGET_CONCURRENCY pushes in flight per target in this worker.
  const limit = keyedLimiter(config.TARGET_CONCURRENCY);
  const leases = createPublicationLeases(db);

  function call(ctx: PushContext, method: string, path: string, step: string, body?: unknown): Promise<PortalResponse> {
    const headers: Record<string, string> = { 'X-API-Key': ctx.apiKey };
    if (method !== 'GET') {
      headers['Idempotency-Key'] = pushIdempotencyKey({ listingId: ctx.input.listingId, revision: ctx.listing?.revision ?? 0, targetId: ctx.target.id, step: `${ctx.keyStep}:${step}` });
    }
    return portal.json(ctx.target.base_url, method, path, { headers, body });
  }

  function verdictOf(answer: PortalResponse): TargetVerdict {
    return judgeTargetResponse(answer.status, answer.body, answer.retryAfterMs);
  }

  async function recordImages(ctx: PushContext, pushed: Record<string, string>): Promise<void> {
    await db('publications').where({ listing_id: ctx.input.listingId, target_id: ctx.target.id }).update({ pushed_images: JSON.stringify(pushed), updated_at: db.fn.now() });
  }

  /** Brings the target's gallery to the listing's ready images, recording each step as it lands. */
  async function syncGallery(ctx: PushContext, remoteId: string, pushedBefore: Record<string, string>): Promise<Failure | undefined> {
    const pushed = { ...pushedBefore };
    const ready = new Set(ctx.images.map((image) => image.id));
    for (const [localId, remoteImageId] of Object.entries(pushed)) {
      if (ready.has(localId)) continue;
      const answer = await call(ctx, 'DELETE', `api/v1/listings/${remoteId}/images?image_id=${encodeURIComponent(remoteImageId)}`, `image-delete:${localId}`);
      if (answer.status !== 404 && !verdictOf(answer).ok) return verdictOf(answer) as Failure;
      delete pushed[localId];
      await recordImages(ctx, pushed);
    }
    for (const image of ctx.images) {
      if (pushed[image.id]) continue;
      const bytes = await readStream(await storage.getObject(image.bucket, image.object_key));
      const ticket = await call(ctx, 'POST', `api/v1/listings/${remoteId}/images`, `image:${image.id}`, {
        filename: image.filename,
        content_type: image.content_type,
        size: bytes.length,
        sort_order: image.sort_order,
      });
      if (!verdictOf(ticket).ok) return verdictOf(ticket) as Failure;
      const data = (ticket.body as { data?: { image_id?: string; upload_url?: string; upload_token?: string } }).data ?? {};
      if (!data.image_id || !data.upload_url || !data.upload_token) return { failureCode: 'target_unavailable', message: 'The target answered an image upload request without an upload URL.' };
      const uploaded = await portal.upload(data.upload_url, bytes, image.content_type);
      if (uploaded < 200 || uploaded >= 300) return { failureCode: 'target_unavailable', message: `The target's storage refused the image upload (HTTP ${uploaded}).` };
      const completed = await call(ctx, 'POST', `api/v1/listings/${remoteId}/images/${data.image_id}/complete`, `image-complete:${image.id}`, { upload_token: data.upload_token });
      // 409: the target already took the upload in (its storage notification was quicker).
      if (completed.status !== 409 && !verdictOf(completed).ok) return verdictOf(completed) as Failure;
      pushed[image.id] = data.image_id;
      await recordImages(ctx, pushed);
    }
    return undefined;
  }

  async function upsert(ctx: PushContext): Promise<SyncOutcome> {
    const listing = ctx.listing as ListingRow;
    const body = pushedListingBody(listing);
    let answer: PortalResponse;
    try {
      answer = await call(ctx, 'POST', 'api/v1/listings', 'upsert', body);
    } catch (error) {
      return recordFailure(ctx, 'set', unreachable(error));
    }
    const verdict = verdictOf(answer);
    if (!verdict.ok) return recordFailure(ctx, 'set', verdict as Failure);
    const remoteId = (answer.body as { data?: { id?: string } }).data?.id;
    if (!remoteId) return recordFailure(ctx, 'set', { failureCode: 'target_unavailable', message: 'The target answered the upsert without a listing id.' });
    // A listing the target re-created under a new id has none of the old images.
    const pushedBefore = ctx.publication?.remote_id === remoteId ? ctx.publication.pushed_images : {};
    await db.raw(
      `insert into publications (listing_id, target_id, org_id, state, remote_id, pushed_images) values (?, ?, ?, 'pending', ?, ?::jsonb)
       on conflict (listing_id, target_id) do update set remote_id = excluded.remote_id, pushed_images = excluded.pushed_images, updated_at = now()`,
      [listing.id, ctx.target.id, listing.org_id, remoteId, JSON.stringify(pushedBefore)],
    );
    let galleryFailure: Failure | undefined;
    try {
      galleryFailure = await syncGallery(ctx, remoteId, pushedBefore);
    } catch (error) {
      galleryFailure = unreachable(error);
    }
    if (galleryFailure) return recordFailure(ctx, 'set', galleryFailure);

    await db.transaction(async (trx) => {
      await trx('publications')
        .where({ listing_id: listing.id, target_id: ctx.target.id })
        .update({
          state: 'published',
          pushed_revision: listing.revision,
          published_at: trx.raw('coalesce(published_at, now())'),
          failure_code: null,
          failure_message: null,
          attempts: 0,
          updated_at: trx.fn.now(),
        });
      await appendEvent(trx, listing.org_id, 'publication.succeeded', eventPayload(ctx, 'set'), config);
    });
    return { status: 'published' };
  }

  /** Whether the target still serves its listings API to this key (a 404 may mean it was switched off). */
  async function targetAnswers(ctx: PushContext): Promise<boolean> {
    const probe = await call(ctx, 'GET', `api/v1/listings?limit=1&external_ref=${encodeURIComponent(ctx.listing?.external_ref ?? '')}`, 'probe');
    return probe.status === 200;
  }

  async function remove(ctx: PushContext): Promise<SyncOutcome> {
    const remoteId = ctx.publication?.remote_id as string;
    try {
      const answer = await call(ctx, 'DELETE', `api/v1/listings/${remoteId}`, 'delete');
      const verdict = verdictOf(answer);
      const gone = verdict.ok || (answer.status === 404 && (await targetAnswers(ctx)));
      if (!gone) return recordFailure(ctx, 'delete', verdict.ok ? { failureCode: 'target_unavailable', message: 'The target does not answer its listings API (HTTP 404).' } : (verdict as Failure));
    } catch (error) {
      return recordFailure(ctx, 'delete', unreachable(error));
    }
    await db.transaction(async (trx) => {
      await trx('publications')
        .where({ listing_id: ctx.input.listingId, target_id: ctx.target.id })
        .update({ state: 'deleted', remote_id: null, pushed_revision: null, pushed_images: '{}', published_at: null, failure_code: null, failure_message: null, attempts: 0, updated_at: trx.fn.now() });
      await appendEvent(trx, ctx.input.orgId, 'publication.succeeded', eventPayload(ctx, 'delete'), config);
    });
    return { status: 'deleted' };
  }

  function eventPayload(ctx: PushContext, type: 'set' | 'delete', failure?: Failure): Record<string, unknown> {
    return {
      listingId: ctx.input.listingId,
      propertyId: ctx.listing?.external_ref ?? null,
      targetId: ctx.target.id,
      type,
      failureCode: failure?.failureCode ?? null,
      failureMessage: failure?.message ?? null,
      ...(failure?.fields ? { fields: failure.fields } : {}),
    };
  }

  /**
   * Records a failed push. `publication.failed` is emitted when a listing starts failing or fails
   * differently, not on every retry of an outage.
   */
  async function recordFailure(ctx: PushContext, type: 'set' | 'delete', failure: Failure): Promise<SyncOutcome> {
    const message = failure.message.slice(0, FAILURE_MESSAGE_LIMIT);
    await db.transaction(async (trx) => {
      const previous: PublicationRow | undefined = await trx('publications').where({ listing_id: ctx.input.listingId, target_id: ctx.target.id }).forUpdate().first();
      await trx.raw(
        `insert into publications (listing_id, target_id, org_id, state, failure_code, failure_message, attempts) values (?, ?, ?, 'failed', ?, ?, 1)
         on conflict (listing_id, target_id) do update
           set state = 'failed', failure_code = excluded.failure_code, failure_message = excluded.failure_message, attempts = publications.attempts + 1, updated_at = now()`,
        [ctx.input.listingId, ctx.target.id, ctx.input.orgId, failure.failureCode, message],
      );
      if (failure.failureCode === 'rate_limited') {
        const waitMs = failure.retryAfterMs ?? 60_000;
        await trx('targets')
          .where({ id: ctx.target.id })
          .update({ push_paused_until: trx.raw('greatest(coalesce(push_paused_until, now()), now() + make_interval(secs => ?))', [waitMs / 1000]) });
      }
      if (previous?.state !== 'failed' || previous.failure_code !== failure.failureCode) {
        await appendEvent(trx, ctx.input.orgId, 'publication.failed', eventPayload(ctx, type, { ...failure, message }), config);
      }
    });
    if (isTransientFailure(failure.failureCode)) return { status: 'retry', failureCode: failure.failureCode, retryAfterMs: failure.retryAfterMs };
    return { status: 'failed', failureCode: failure.failureCode };
  }

  /**
   * The gallery in the order the target shows it: uploaded images and image attachments fetched
   * by URL, by sort order. A target takes what reference 000 allows (JPEG, PNG or WebP of at most
   * 5 MB), so an attachment outside that is pushed as its `large` variant (WebP, 1600 px).
   */
  async function readyImages(listingId: string): Promise<ReadyImage[]> {
    const [uploaded, fetched] = await Promise.all([
      db('listing_images')
        .where({ listing_id: listingId, state: 'ready' })
        .whereNull('deleted_at')
        .select('id', 'filename', 'content_type', 'sort_order', 'object_key', 'created_at') as Promise<(Omit<ReadyImage, 'bucket'> & { created_at: Date })[]>,
      db('attachments')
        .where({ listing_id: listingId, kind: 'image', state: 'ready' })
        .whereNotNull('object_key')
        .select('id', 'url', 'content_type', 'size', 'sort_order', 'object_key', 'variants', 'created_at') as Promise<ReadyAttachmentRow[]>,
    ]);
    const gallery = [
      ...uploaded.map((image) => ({ ...image, bucket: config.S3_BUCKET_IMAGES })),
      ...fetched.flatMap((attachment) => {
        const image = attachmentAsTargetImage(attachment, config);
        return image ? [{ ...image, created_at: attachment.created_at }] : [];
      }),
    ];
    gallery.sort((a, b) => a.sort_order - b.sort_order || a.created_at.getTime() - b.created_at.getTime());
    return gallery.map(({ created_at: _createdAt, ...image }) => image);
  }

  /** One sync under the pair's lease (`sync` below takes and gives it back). */
  async function syncLeased(input: PublicationInput, request: SyncRequest, target: TargetRow): Promise<SyncOutcome> {
    const [connection, listing, publication, images] = await Promise.all([
      db('target_connections').where({ target_id: target.id, org_id: input.orgId }).first() as Promise<TargetConnectionRow | undefined>,
      db('listings').where({ id: input.listingId, org_id: input.orgId }).first() as Promise<ListingRow | undefined>,
      db('publications').where({ listing_id: input.listingId, target_id: target.id }).first() as Promise<PublicationRow | undefined>,
      readyImages(input.listingId),
    ]);
    if (!connection?.api_key_ciphertext) return { status: 'unchanged' };
    const present = Boolean(listing && !listing.deleted_at && listing.status === 'active' && listing.publication_state === 'published' && connection.status === 'connected');
    const action: PublicationAction = decidePublicationAction(
      { present, revision: listing?.revision ?? 0, readyImageIds: images.map((image) => image.id), force: Boolean(request.repair) },
      publication && { remoteId: publication.remote_id, pushedRevision: publication.pushed_revision, pushedImageIds: Object.keys(publication.pushed_images), state: publication.state },
    );
    if (action === 'none') return { status: 'unchanged' };
    const pausedMs = pushPausedMs(target);
    if (pausedMs > 0) return { status: 'retry', failureCode: 'rate_limited', retryAfterMs: pausedMs };
    const ctx: PushContext = { input, target, apiKey: box.decrypt(connection.api_key_ciphertext), listing, publication, images, keyStep: request.repair ? `repair:${request.repair}` : 'push' };
    return limit.run(target.id, () => (action === 'upsert' ? upsert(ctx) : remove(ctx)));
  }

  return {
    /**
     * Brings one listing on one target up to date. `holder` names the caller (its workflow id):
     * while another caller holds the pair, nothing is read or pushed and the answer is `busy`.
     */
    async sync(input: PublicationInput, request: SyncRequest = {}, holder: string = workflowIds.publication(input.listingId, input.targetId)): Promise<SyncOutcome> {
      const target: TargetRow | undefined = await db('targets').where({ id: input.targetId }).first();
      // A disabled target keeps what it has; nothing is pushed to it any more.
      if (!target || target.disabled_at) return { status: 'unchanged' };
      const lease = await leases.claim(input.listingId, target.id, holder);
      if ('gone' in lease) return { status: 'unchanged' };
      if (!lease.claimed) return { status: 'busy', retryAfterMs: lease.retryAfterMs };
      try {
        return await syncLeased(input, request, target);
      } finally {
        await leases.release(input.listingId, target.id, holder);
      }
    },
  };
}

interface ReadyAttachmentRow {
  id: string;
  url: string;
  content_type: string;
  size: string | number;
  sort_order: number;
  object_key: string;
  variants: StoredVariant[];
  created_at: Date;
}

/** A fetched image attachment as a target's image upload, or none when it has nothing a target takes. */
export function attachmentAsTargetImage(attachment: Omit<ReadyAttachmentRow, 'created_at'>, config: Pick<Config, 'S3_BUCKET_IMAGES' | 'S3_BUCKET_ATTACHMENTS'>): ReadyImage | undefined {
  const lastSegment = (() => {
    try {
      return decodeURIComponent(new URL(attachment.url).pathname.split('/').pop() ?? '');
    } catch {
      return '';
    }
  })();
  const name = plainFilename(lastSegment) || attachment.id;
  const takenAsIs = (IMAGE_CONTENT_TYPES as readonly string[]).includes(attachment.content_type) && Number(attachment.size) <= MAX_IMAGE_BYTES;
  if (takenAsIs) return { id: attachment.id, filename: name, content_type: attachment.content_type, sort_order: attachment.sort_order, object_key: attachment.object_key, bucket: config.S3_BUCKET_ATTACHMENTS };
  const large = attachment.variants.find((variant) => variant.name === 'large');
  if (!large) return undefined;
  return { id: attachment.id, filename: `${name.replace(/\.[^.]*$/, '') || attachment.id}.webp`, content_type: 'image/webp', sort_order: attachment.sort_order, object_key: large.key, bucket: config.S3_BUCKET_IMAGES };
}

/** How long the target asked Immoflow to hold its pushes (a 429's Retry-After), 0 when it did not. */
export function pushPausedMs(target: Pick<TargetRow, 'push_paused_until'>): number {
  return Math.max(0, (target.push_paused_until?.getTime() ?? 0) - Date.now());
}

export type Publisher = ReturnType<typeof createPublisher>;
