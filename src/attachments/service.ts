import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import {
  AttachmentFailureCode,
  AttachmentKind,
  AttachmentRequest,
  AttachmentState,
  ExistingAttachment,
  PropertyProcessingInput,
  planAttachments,
  titleImageIndex,
} from '../domain/attachments';
import type { WorkflowStart } from '../domain/outbox';
import { workflowIds } from '../domain/workflowIds';
import { ApiError, FieldError } from '../http/errors';
import { checkUrlStatic } from '../http/ssrfGuard';
import type { StoredVariant } from '../images/storage';
import { variantUrl } from '../images/storage';
import { enqueueWorkflowStart } from '../outbox/service';
import { taskQueues } from '../temporal/taskQueues';
import type { AttachmentDto } from './schema';


export interface AttachmentRow {
  id: string;
  org_id: string;
  listing_id: string;
  position: number;
  url: string;
  kind: AttachmentKind;
  title: string | null;
  sort_order: number;
  is_title: boolean;
  state: AttachmentState;
  failure_code: AttachmentFailureCode | null;
  failure_message: string | null;
  object_key: string | null;
  content_type: string | null;
  size: string | null;
  sha256: string | null;
  etag: string | null;
  width: number | null;
  height: number | null;
  variants: StoredVariant[];
  fetched_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type AttachmentConfig = Pick<Config, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT' | 'S3_BUCKET_IMAGES'>;

export const newAttachmentId = () => `att_${randomBytes(12).toString('hex')}`;

export function toAttachmentDto(config: AttachmentConfig, row: AttachmentRow, isTitle: boolean): AttachmentDto {
  return {
    id: row.id,
    url: row.url,
    kind: row.kind,
    title: row.title,
    sort_order: row.sort_order,
    is_title: isTitle,
    state: row.state,
    failure_code: row.state === 'failed' ? row.failure_code : null,
    failure_message: row.state === 'failed' ? row.failure_message : null,
    content_type: row.state === 'ready' ? row.content_type : null,
    size: row.state === 'ready' && row.size !== null ? Number(row.size) : null,
    sha256: row.state === 'ready' ? row.sha256 : null,
    width: row.state === 'ready' ? row.width : null,
    height: row.state === 'ready' ? row.height : null,
    // The same public variant URLs as uploaded images (the id is the variants' folder).
    variants:
      row.state === 'ready'
        ? row.variants.map((variant) => ({ name: variant.name, url: variantUrl(config, row.id, variant.name), width: variant.width, height: variant.height, content_type: 'image/webp' as const }))
        : [],
    fetched_at: row.state === 'ready' ? (row.fetched_at?.toISOString() ?? null) : null,
  };
}

/** Attachment DTOs of one listing's rows (in position order), with the title image marked. */
export function toAttachmentDtos(config: AttachmentConfig, rows: AttachmentRow[]): AttachmentDto[] {
  const title = titleImageIndex(rows);
  return rows.map((row, index) => toAttachmentDto(config, row, index === title));
}

/** Attachments of one or more listings, in request order. */
export async function loadAttachments(executor: Db, listingIds: string[]): Promise<Map<string, AttachmentRow[]>> {
  const byListing = new Map<string, AttachmentRow[]>(listingIds.map((id) => [id, []]));
  if (listingIds.length === 0) return byListing;
  const rows: AttachmentRow[] = await executor('attachments').whereIn('listing_id', listingIds).orderBy([{ column: 'listing_id' }, { column: 'position' }]);
  for (const row of rows) byListing.get(row.listing_id)?.push(row);
  return byListing;
}

export async function withAttachments<T extends { id: string; attachments: AttachmentDto[] }>(executor: Db, config: AttachmentConfig, listings: T[]): Promise<T[]> {
  if (listings.length === 0) return listings;
  const rows = await loadAttachments(executor, listings.map((listing) => listing.id));
  return listings.map((listing) => ({ ...listing, attachments: toAttachmentDtos(config, rows.get(listing.id) ?? []) }));
}

/**
 * The SSRF guard's static checks (scheme, credentials, IP literals, `localhost`, the dev allow
 * list) on every URL of a write; a 400 naming each bad index. DNS is the fetch's job.
 */
export function validateAttachmentUrls(requested: AttachmentRequest[], config: Pick<Config, 'ATTACHMENT_ALLOW_TARGETS'>): void {
  const fields: FieldError[] = [];
  requested.forEach((attachment, index) => {
    const verdict = checkUrlStatic(attachment.url, { allowTargets: config.ATTACHMENT_ALLOW_TARGETS });
    if (!verdict.ok) fields.push({ path: `attachments.${index}.url`, message: verdict.reason });
  });
  if (fields.length > 0) throw ApiError.validation(fields);
}

export interface ListingRef {
  orgId: string;
  listingId: string;
  externalRef: string;
  /** The revision the write gave the listing. */
  revision: number;
}

export function propertyProcessingStart(config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>, ref: ListingRef, removed: PropertyProcessingInput['removed']): WorkflowStart {
  const input: PropertyProcessingInput = { orgId: ref.orgId, listingId: ref.listingId, externalRef: ref.externalRef, revision: ref.revision, removed };
  return {
    workflowType: 'propertyProcessing',
    workflowId: workflowIds.propertyProcessing(ref.listingId, ref.revision),
    taskQueue: taskQueues(config).main,
    args: [input],
    searchAttributes: { OrgId: [ref.orgId], ListingId: [ref.listingId], ExternalRef: [ref.externalRef] },
  };
}

/**
 * Replaces the listing's attachments inside the write's transaction (the listing row is locked
 * by the caller). When anything changed, the listing's attachments_revision becomes this
 * revision and a propertyProcessing run is owed through the outbox, in the same transaction.
 * Returns whether anything changed and the rows before the change.
 */
export async function replaceAttachments(trx: Db, config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>, ref: ListingRef, requested: AttachmentRequest[]): Promise<{ changed: boolean; before: AttachmentRow[] }> {
  const before: AttachmentRow[] = await trx('attachments').where({ listing_id: ref.listingId }).orderBy('position');
  const existing: ExistingAttachment[] = before.map((row) => ({ id: row.id, url: row.url, kind: row.kind, title: row.title, sort_order: row.sort_order, is_title: row.is_title, state: row.state, position: row.position }));
  const plan = planAttachments(existing, requested);
  if (!plan.changed) return { changed: false, before };
  const removed = before.filter((row) => plan.removedIds.includes(row.id)).map((row) => ({ id: row.id, objectKey: row.object_key }));
  if (plan.removedIds.length > 0) await trx('attachments').whereIn('id', plan.removedIds).delete();
  for (const planned of plan.attachments.filter((candidate) => candidate.keepId)) {
    await trx('attachments')
      .where({ id: planned.keepId as string })
      .update({
        position: planned.position,
        title: planned.title,
        sort_order: planned.sort_order,
        is_title: planned.is_title,
        ...(planned.fetch ? { state: 'pending', failure_code: null, failure_message: null } : {}),
        updated_at: trx.fn.now(),
      });
  }
  const inserts = plan.attachments
    .filter((planned) => !planned.keepId)
    .map((planned) => ({
      id: newAttachmentId(),
      org_id: ref.orgId,
      listing_id: ref.listingId,
      position: planned.position,
      url: planned.url,
      kind: planned.kind,
      title: planned.title,
      sort_order: planned.sort_order,
      is_title: planned.is_title,
      state: 'pending',
    }));
  if (inserts.length > 0) await trx('attachments').insert(inserts);
  await trx('listings').where({ id: ref.listingId }).update({ attachments_revision: ref.revision });
  await enqueueWorkflowStart(trx, propertyProcessingStart(config, ref, removed), ref.orgId);
  return { changed: true, before };
}
