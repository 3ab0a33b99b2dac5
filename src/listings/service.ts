import type { Db } from '../db/knex';
import { normalizeAddress } from '../domain/address';
import { ListingStatus, allowedTransitions, canTransition, isActivation } from '../domain/listingLifecycle';
import { effectiveActiveListingCap, exceedsActiveListingCap } from '../domain/plans';
import { LISTING_OWNER_ROLES } from '../domain/roles';
import { workflowIds } from '../domain/workflowIds';
import { EventFanoutSink, appendEvent, eventFanoutSink } from '../events/service';
import { ApiError } from '../http/errors';
import { removeImagesOfListing } from '../images/service';
import type { AuthContext } from '../identity/authContext';
import { enqueueWorkflowStart } from '../outbox/service';
import type { ListingPublishInput } from '../domain/listingPipeline';
import type { WorkflowStart } from '../domain/outbox';
import { taskQueues } from '../temporal/taskQueues';
import type { DeliveryConfig } from '../webhooks/deliveries';
import { ListingPublicDto, ListingRow, toListingDto } from './dto';
import { LISTING_FIELD_NAMES, ListingFieldValues, PatchListingInput, UpsertListingInput } from './schema';

export interface ListingWriteResult {
  listing: ListingPublicDto;
  created: boolean;
}

/** Runs inside the write's transaction just before commit (e.g. to store the idempotent response). */
export type BeforeCommit<T> = (trx: Db, result: T) => Promise<void>;

const OWNER_NOT_MEMBER =
  'owner_email must be the e-mail address of an owner, admin or member of your organization.';

function pickFields(input: ListingFieldValues): ListingFieldValues {
  return Object.fromEntries(LISTING_FIELD_NAMES.filter((name) => input[name] !== undefined).map((name) => [name, input[name]]));
}

function toColumns(fields: ListingFieldValues): Record<string, unknown> {
  const columns: Record<string, unknown> = { ...fields };
  if ('energy_certificate' in fields) {
    columns.energy_certificate = fields.energy_certificate === null ? null : JSON.stringify(fields.energy_certificate);
  }
  return columns;
}

async function selectListing(db: Db, orgId: string, where: Record<string, unknown>, lock = false): Promise<ListingRow | undefined> {
  const query = db('listings as l')
    .leftJoin('users as u', 'u.id', 'l.owner_user_id')
    .where({ 'l.org_id': orgId, ...Object.fromEntries(Object.entries(where).map(([key, value]) => [`l.${key}`, value])) })
    .whereNull('l.deleted_at')
    .first('l.*', 'u.email as owner_email');
  // Lock the listing only; the owner's user row is read, not locked.
  if (lock) query.forUpdate('l');
  return query;
}

/** An older revision's run that waits for an operator; the next write tells it to stop waiting. */
function pendingReview(row: ListingRow): { supersedes?: string } {
  return row.moderation_state === 'needs_review' && row.review_workflow_id ? { supersedes: row.review_workflow_id } : {};
}

/** Listings: the transactional half of every write (DESIGN §5); the pipeline runs in Temporal. */
export function createListingService(db: Db, config: DeliveryConfig) {
  const taskQueue = taskQueues(config).main;
  async function resolveOwner(trx: Db, auth: AuthContext, ownerEmail: string | undefined): Promise<string | null> {
    if (!ownerEmail) return auth.createdBy;
    const member = await trx('users as u')
      .join('memberships as m', 'm.user_id', 'u.id')
      .where('m.org_id', auth.orgId)
      .whereIn('m.role', LISTING_OWNER_ROLES as string[])
      .whereRaw('lower(u.email) = lower(?)', [ownerEmail])
      .first('u.id');
    // Same message for unknown and non-member addresses: the API must not reveal who has an account.
    if (!member) throw ApiError.forbidden(OWNER_NOT_MEMBER);
    return member.id;
  }

  async function enforceActiveCap(trx: Db, auth: AuthContext): Promise<void> {
    const cap = effectiveActiveListingCap(auth.org.plan, auth.org.activeListingCapOverride);
    if (cap === null) return;
    // Serialise activations per organisation so two concurrent writes cannot both take the last slot.
    await trx('organizations').where({ id: auth.orgId }).forUpdate().first('id');
    const [{ count }] = await trx('listings').where({ org_id: auth.orgId, status: 'active' }).whereNull('deleted_at').count<{ count: string }[]>('* as count');
    if (exceedsActiveListingCap(cap, Number(count))) {
      throw ApiError.forbidden(`Your ${auth.org.plan} plan allows at most ${cap} active listings. Upgrade the plan or archive a listing first.`, {
        limit: cap,
        plan: auth.org.plan,
      });
    }
  }

  function checkTransition(from: ListingStatus, to: ListingStatus): void {
    if (!canTransition(from, to)) {
      throw new ApiError(409, 'INVALID_STATUS_TRANSITION', `A listing cannot move from ${from} to ${to}.`, {
        from,
        to,
        allowed: allowedTransitions(from),
      });
    }
  }

  async function owePublish(trx: Db, auth: AuthContext, row: ListingRow, input: Omit<ListingPublishInput, 'orgId' | 'listingId' | 'revision' | 'externalRef'>): Promise<WorkflowStart> {
    const workflowId = workflowIds.listingPublish(row.id, row.revision);
    const args: ListingPublishInput = { orgId: auth.orgId, listingId: row.id, revision: row.revision, externalRef: row.external_ref, ...input };
    return enqueueWorkflowStart(
      trx,
      {
        workflowType: 'listingPublish',
        workflowId,
        taskQueue,
        args: [args],
        searchAttributes: { OrgId: [auth.orgId], ListingId: [row.id], ExternalRef: [row.external_ref] },
      },
      auth.orgId,
    );
  }

  function eventPayload(row: ListingRow, extra: Record<string, unknown> = {}) {
    return { listingId: row.id, externalRef: row.external_ref, revision: row.revision, status: row.status, ...extra };
  }

  /** Applies a change to an existing, locked row: lifecycle, quota, revision, event, outbox. */
  async function updateLocked(
    trx: Db,
    auth: AuthContext,
    current: ListingRow,
    fields: ListingFieldValues,
    status: ListingStatus | undefined,
    sink: EventFanoutSink,
  ): Promise<ListingRow> {
    const nextStatus = status ?? current.status;
    checkTransition(current.status, nextStatus);
    if (isActivation(current.status, nextStatus)) await enforceActiveCap(trx, auth);
    const merged = { ...current, ...fields };
    const normalized = normalizeAddress(merged);
    const [updated]: ListingRow[] = await trx('listings')
      .where({ id: current.id })
      .update({
        ...toColumns(fields),
        status: nextStatus,
        normalized_address: normalized,
        revision: current.revision + 1,
        change_seq: trx.raw("nextval('listing_change_seq')"),
        moderation_state: 'pending',
        // Only the pipeline changes what the portal shows; the API just marks a pending activation.
        publication_state: nextStatus === 'active' && current.publication_state !== 'published' ? 'pending' : current.publication_state,
        updated_at: trx.fn.now(),
      })
      .returning('*');
    updated.owner_email = current.owner_email;
    const changed = Object.keys(fields).filter((name) => JSON.stringify((current as never)[name]) !== JSON.stringify((fields as never)[name]));
    await appendEvent(trx, auth.orgId, 'listing.updated', eventPayload(updated, { previousStatus: current.status, changedFields: changed }), sink);
    await owePublish(trx, auth, updated, {
      activating: isActivation(current.status, nextStatus),
      wasPublished: current.publication_state === 'published',
      addressChanged: normalized !== current.normalized_address || current.geo_precision === null,
      action: 'set',
      ...pendingReview(current),
    });
    return updated;
  }

  async function upsertWithin(trx: Db, auth: AuthContext, input: UpsertListingInput, fields: ListingFieldValues, sink: EventFanoutSink): Promise<ListingWriteResult> {
    let current = await selectListing(trx, auth.orgId, { external_ref: input.external_ref }, true);
    if (!current) {
      const ownerUserId = await resolveOwner(trx, auth, input.owner_email);
      const status = input.status ?? 'draft';
      if (status === 'active') await enforceActiveCap(trx, auth);
      const draft = { country: 'DE', ...fields };
      const [inserted]: ListingRow[] = await trx('listings')
        .insert({
          ...toColumns(draft),
          org_id: auth.orgId,
          external_ref: input.external_ref,
          status,
          owner_user_id: ownerUserId,
          normalized_address: normalizeAddress(draft as { country: string }),
          publication_state: status === 'active' ? 'pending' : 'unpublished',
        })
        .onConflict(trx.raw('(org_id, external_ref) where deleted_at is null'))
        .ignore()
        .returning('*');
      if (inserted) {
        if (ownerUserId) inserted.owner_email = (await trx('users').where({ id: ownerUserId }).first('email'))?.email ?? null;
        await appendEvent(trx, auth.orgId, 'listing.created', eventPayload(inserted), sink);
        await owePublish(trx, auth, inserted, {
          activating: status === 'active',
          wasPublished: false,
          addressChanged: true,
          action: 'set',
        });
        return { listing: toListingDto(inserted), created: true };
      }
      // A concurrent request created it between our read and our insert: update that one.
      current = await selectListing(trx, auth.orgId, { external_ref: input.external_ref }, true);
      if (!current) throw new Error('listing vanished during upsert');
    }
    // owner_email is honoured on create only: an upsert never re-homes a listing.
    const row = await updateLocked(trx, auth, current, fields, input.status, sink);
    return { listing: toListingDto(row), created: false };
  }

  return {
    async upsert(auth: AuthContext, input: UpsertListingInput, beforeCommit?: BeforeCommit<ListingWriteResult>): Promise<ListingWriteResult> {
      const fields = pickFields(input);
      const result = await db.transaction(async (trx) => {
        const outcome = await upsertWithin(trx, auth, input, fields, eventFanoutSink(config));
        await beforeCommit?.(trx, outcome);
        return outcome;
      });
      return result;
    },

    async patch(auth: AuthContext, listingId: string, input: PatchListingInput, beforeCommit?: BeforeCommit<ListingWriteResult>): Promise<ListingWriteResult> {
      return db.transaction(async (trx) => {
        const current = await selectListing(trx, auth.orgId, { id: listingId }, true);
        if (!current) throw ApiError.notFound('No listing with this id in your organization.');
        const sink = eventFanoutSink(config);
        const row = await updateLocked(trx, auth, current, pickFields(input), input.status, sink);
        const outcome = { listing: toListingDto(row), created: false };
        await beforeCommit?.(trx, outcome);
        return outcome;
      });
    },

    async remove(auth: AuthContext, listingId: string, beforeCommit?: BeforeCommit<{ id: string }>): Promise<void> {
      return db.transaction(async (trx) => {
        const current = await selectListing(trx, auth.orgId, { id: listingId }, true);
        if (!current) throw ApiError.notFound('No listing with this id in your organization.');
        const sink = eventFanoutSink(config);
        const [deleted]: ListingRow[] = await trx('listings')
          .where({ id: current.id })
          .update({ deleted_at: trx.fn.now(), revision: current.revision + 1, change_seq: trx.raw("nextval('listing_change_seq')"), updated_at: trx.fn.now() })
          .returning('*');
        await appendEvent(trx, auth.orgId, 'listing.deleted', eventPayload(deleted), sink);
        await owePublish(trx, auth, deleted, {
          activating: false,
          wasPublished: current.publication_state === 'published',
          addressChanged: false,
          action: 'delete',
          ...pendingReview(current),
        });
        await removeImagesOfListing(trx, taskQueue, { orgId: auth.orgId, listingId: current.id, externalRef: current.external_ref });
        await beforeCommit?.(trx, { id: current.id });
      });
    },

    async get(auth: AuthContext, listingId: string): Promise<ListingPublicDto> {
      const row = await selectListing(db, auth.orgId, { id: listingId });
      if (!row) throw ApiError.notFound('No listing with this id in your organization.');
      return toListingDto(row);
    },

    async list(
      auth: AuthContext,
      query: { limit: number; afterSeq?: string; status?: ListingStatus; external_ref?: string; updated_since?: string },
    ): Promise<{ listings: ListingPublicDto[]; nextSeq: string | null }> {
      const rows: (ListingRow & { owner_email: string | null })[] = await db('listings as l')
        .leftJoin('users as u', 'u.id', 'l.owner_user_id')
        .where('l.org_id', auth.orgId)
        .whereNull('l.deleted_at')
        .modify((q) => {
          if (query.afterSeq) q.where('l.change_seq', '>', query.afterSeq);
          if (query.status) q.where('l.status', query.status);
          if (query.external_ref) q.where('l.external_ref', query.external_ref);
          if (query.updated_since) q.where('l.updated_at', '>=', new Date(query.updated_since));
        })
        .orderBy('l.change_seq', 'asc')
        .limit(query.limit + 1)
        .select('l.*', 'u.email as owner_email');
      const page = rows.slice(0, query.limit);
      return { listings: page.map((row) => toListingDto(row)), nextSeq: rows.length > query.limit ? page[page.length - 1].change_seq : null };
    },
  };
}

export type ListingService = ReturnType<typeof createListingService>;
