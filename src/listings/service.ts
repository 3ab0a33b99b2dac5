import { replaceAttachments, validateAttachmentUrls } from '../attachments/service';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { abortStatementWhen, isStatementAbort, preparedQuery } from '../db/sql';
import { normalizeAddress } from '../domain/address';
import { ListingStatus, allowedTransitions, canTransition, isActivation } from '../domain/listingLifecycle';
import { effectiveActiveListingCap, exceedsActiveListingCap } from '../domain/plans';
import { LISTING_OWNER_ROLES } from '../domain/roles';
import { workflowIds } from '../domain/workflowIds';
import { appendEvent, eventAppendCtes, newEvent } from '../events/service';
import { ApiError } from '../http/errors';
import { removeImagesOfListing } from '../images/service';
import type { AuthContext } from '../identity/authContext';
import type { StatementClaim } from '../idempotency/middleware';
import { enqueueWorkflowStart, workflowStartsInsert } from '../outbox/service';
import type { ListingPublishInput } from '../domain/listingPipeline';
import type { WorkflowStart } from '../domain/outbox';
import { taskQueues } from '../temporal/taskQueues';
import type { DeliveryConfig } from '../webhooks/deliveries';
import { ListingPublicDto, ListingRow, listingChanges, listingEventPayload, toListingDto } from './dto';
import { withRelations } from './relations';
import { ListingOwner, NewListingRow, defaultOwner, listingInsertColumns, newListingRow } from './newListing';
import { LISTING_FIELD_NAMES, ListingFieldValues, PatchListingInput, UpsertListingInput } from './schema';

type AttachmentsInput = NonNullable<UpsertListingInput['attachments']>;

export interface ListingWriteResult {
  listing: ListingPublicDto;
  created: boolean;
}

/** Runs inside the write's transaction just before commit (e.g. to store the idempotent response). */
export type BeforeCommit<T> = (trx: Db, result: T) => Promise<void>;

/**
 * Claims the request's Idempotency-Key inside a single-statement create, with the create's result
 * as the stored response (`idempotentClaimInStatement`); null without a key.
 */
export type ClaimInStatement = (result: ListingWriteResult, guard: string) => StatementClaim | null;

const KEY_TAKEN = 'idempotency key held by another request';

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

export type ListingServiceConfig = DeliveryConfig & Pick<Config, 'S3_ENDPOINT' | 'S3_PUBLIC_ENDPOINT' | 'S3_BUCKET_IMAGES' | 'ATTACHMENT_ALLOW_TARGETS'>;

/** What `listing.updated` compares for `changed_fields` / `previous_attributes`. */
const COMPARED_FIELDS = [...LISTING_FIELD_NAMES, 'status', 'attachments'] as const;

/** Listings: the transactional half of every write (DESIGN §5); the pipeline runs in Temporal. */
export function createListingService(db: Db, config: ListingServiceConfig) {
  const taskQueue = taskQueues(config).main;
  async function resolveOwner(trx: Db, auth: AuthContext, ownerEmail: string | undefined): Promise<ListingOwner | null> {
    if (!ownerEmail) return defaultOwner(auth);
    const member = await trx('users as u')
      .join('memberships as m', 'm.user_id', 'u.id')
      .where('m.org_id', auth.orgId)
      .whereIn('m.role', LISTING_OWNER_ROLES as string[])
      .whereRaw('lower(u.email) = lower(?)', [ownerEmail])
      .first('u.id', 'u.email');
    // Same message for unknown and non-member addresses: the API must not reveal who has an account.
    if (!member) throw ApiError.forbidden(OWNER_NOT_MEMBER);
    return member;
  }

  async function enforceActiveCap(trx: Db, auth: AuthContext): Promise<void> {
    const cap = effectiveActiveListingCap(auth.org.plan, auth.org.activeListingCapOverride);
    if (cap === null) return;
    // Serialise activations per organisation so two concurrent writes cannot both take the last slot.
    // NO KEY UPDATE: FOR UPDATE also blocked every insert whose foreign key names the organisation
    // (a webhook's test delivery), which deadlocked with this transaction's own event fan-out.
    await trx('organizations').where({ id: auth.orgId }).forNoKeyUpdate().first('id');
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

  type PublishOptions = Omit<ListingPublishInput, 'orgId' | 'listingId' | 'revision' | 'externalRef'>;

  function publishStart(auth: AuthContext, row: Pick<ListingRow, 'id' | 'revision' | 'external_ref'>, options: PublishOptions): WorkflowStart {
    const args: ListingPublishInput = { orgId: auth.orgId, listingId: row.id, revision: row.revision, externalRef: row.external_ref, ...options };
    return {
      workflowType: 'listingPublish',
      workflowId: workflowIds.listingPublish(row.id, row.revision),
      taskQueue,
      args: [args],
      searchAttributes: { OrgId: [auth.orgId], ListingId: [row.id], ExternalRef: [row.external_ref] },
    };
  }

  function owePublish(trx: Db, auth: AuthContext, row: ListingRow, options: PublishOptions): Promise<void> {
    return enqueueWorkflowStart(trx, publishStart(auth, row, options), auth.orgId);
  }

  /** The listing as GET returns it (gallery, publications, attachments), read inside `trx`. */
  async function fullDto(trx: Db, row: Omit<ListingRow, 'change_seq'>): Promise<ListingPublicDto> {
    const [dto] = await withRelations(trx, config, [toListingDto(row)]);
    return dto;
  }

  /** Applies a change to an existing, locked row: lifecycle, quota, revision, event, outbox. */
  async function updateLocked(
    trx: Db,
    auth: AuthContext,
    current: ListingRow,
    fields: ListingFieldValues,
    status: ListingStatus | undefined,
    attachments: AttachmentsInput | undefined,
  ): Promise<{ row: ListingRow; listing: ListingPublicDto }> {
    const nextStatus = status ?? current.status;
    const before = await fullDto(trx, current);
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
    if (attachments) {
      await replaceAttachments(trx, config, { orgId: auth.orgId, listingId: updated.id, externalRef: updated.external_ref, revision: updated.revision }, attachments);
    }
    const listing = await fullDto(trx, updated);
    const changes = listingChanges(before, listing, COMPARED_FIELDS);
    await appendEvent(trx, auth.orgId, 'listing.updated', listingEventPayload(listing, { previousStatus: current.status, changedFields: changes.changed_fields, ...changes }), config);
    await owePublish(trx, auth, updated, {
      activating: isActivation(current.status, nextStatus),
      wasPublished: current.publication_state === 'published',
      addressChanged: normalized !== current.normalized_address || current.geo_precision === null,
      action: 'set',
      ...pendingReview(current),
    });
    return { row: updated, listing };
  }

  /**
   * Creates the listing unless its external_ref exists, as one statement: the row, its
   * `listing.created` event with that event's webhook deliveries, the owed listingPublish start,
   * and (with `claimKey`) the Idempotency-Key claimed with its response stored. Every column is
   * fixed here, so the response is known before the insert. Null when the external_ref exists,
   * or the key belongs to another request: then nothing was written.
   */
  async function createIfNew(
    executor: Db,
    auth: AuthContext,
    input: UpsertListingInput,
    fields: ListingFieldValues,
    owner: ListingOwner | null,
    claimKey?: ClaimInStatement,
  ): Promise<{ result: ListingWriteResult; row: NewListingRow; committed(): void } | null> {
    const row = newListingRow(auth.orgId, input.external_ref, input.status ?? 'draft', fields, owner, new Date());
    const result: ListingWriteResult = { listing: toListingDto(row), created: true };
    // With attachments, listing.created is appended after them, so that it carries them.
    const withEvent = !input.attachments?.length;
    const created = 'exists (select 1 from created_listing)';
    // Plain SQL rather than knex's insert builder: this runs on every create, and the columns are ours.
    const columns = listingInsertColumns(row);
    const names = Object.keys(columns);
    const insert = {
      sql: `insert into listings (${names.join(', ')}) values (${names.map(() => '?').join(', ')})
        on conflict (org_id, external_ref) where deleted_at is null do nothing returning id`,
      bindings: Object.values(columns),
    };
    const event = withEvent ? eventAppendCtes(newEvent(auth.orgId, 'listing.created', listingEventPayload(result.listing), row.created_at), config, created) : null;
    const publish = workflowStartsInsert(
      [publishStart(auth, row, { activating: row.status === 'active', wasPublished: false, addressChanged: true, action: 'set' })],
      auth.orgId,
      created,
    );
    const claim = claimKey?.(result, created) ?? null;
    const ctes = [`created_listing as (${insert.sql})`, ...(event ? [event.sql] : []), `publish_start as (${publish.sql})`, ...(claim ? [`claimed_key as (${claim.sql})`] : [])];
    // Created without the key: the key is another request's, so none of this may commit.
    const keyCheck = claim ? `, ${abortStatementWhen(`${created} and not exists (select 1 from claimed_key)`, KEY_TAKEN)} as key_check` : '';
    try {
      const { rows } = await preparedQuery<{ created: number }>(executor, `with ${ctes.join(', ')} select (select count(*)::int from created_listing) as created${keyCheck}`, [
        ...insert.bindings,
        ...(event?.bindings ?? []),
        ...publish.bindings,
        ...(claim?.bindings ?? []),
      ]);
      if (rows[0].created === 0) return null;
    } catch (error) {
      if (isStatementAbort(error, KEY_TAKEN)) return null;
      throw error;
    }
    return { result, row, committed: () => claim?.committed() };
  }

  return {
    /**
     * The common POST /listings, a new external_ref without owner_email or a plan-capped
     * activation, as one statement and one round trip (see createIfNew); null when it does not
     * apply or did nothing, and the request continues with `upsert`.
     */
    async tryCreate(auth: AuthContext, input: UpsertListingInput, claimKey: ClaimInStatement): Promise<ListingWriteResult | null> {
      const cappedActivation = input.status === 'active' && effectiveActiveListingCap(auth.org.plan, auth.org.activeListingCapOverride) !== null;
      // Attachments take the transactional path: their rows and the owed fetch commit with the listing.
      if (input.owner_email || cappedActivation || input.attachments?.length) return null;
      const created = await createIfNew(db, auth, input, pickFields(input), defaultOwner(auth), claimKey);
      created?.committed();
      return created?.result ?? null;
    },

    /**
     * The upsert in one transaction: reads (and locks) the listing first, then creates or updates
     * it. owner_email is resolved only to create (it is honoured on create only, so an update
     * must not fail on it), and a capped activation is counted under the organisation's lock.
     */
    async upsert(auth: AuthContext, input: UpsertListingInput, beforeCommit: BeforeCommit<ListingWriteResult>): Promise<ListingWriteResult> {
      const fields = pickFields(input);
      if (input.attachments) validateAttachmentUrls(input.attachments, config);
      return db.transaction(async (trx) => {
        let current = await selectListing(trx, auth.orgId, { external_ref: input.external_ref }, true);
        if (!current) {
          const owner = await resolveOwner(trx, auth, input.owner_email);
          if ((input.status ?? 'draft') === 'active') await enforceActiveCap(trx, auth);
          const created = await createIfNew(trx, auth, input, fields, owner);
          if (created) {
            if (input.attachments?.length) {
              await replaceAttachments(trx, config, { orgId: auth.orgId, listingId: created.row.id, externalRef: created.row.external_ref, revision: created.row.revision }, input.attachments);
              created.result.listing = await fullDto(trx, created.row);
              await appendEvent(trx, auth.orgId, 'listing.created', listingEventPayload(created.result.listing), config);
            }
            await beforeCommit(trx, created.result);
            return created.result;
          }
          // A concurrent request created it between our read and our insert: update that one.
          current = await selectListing(trx, auth.orgId, { external_ref: input.external_ref }, true);
          if (!current) throw new Error('listing vanished during upsert');
        }
        // owner_email is honoured on create only: an upsert never re-homes a listing.
        const { listing } = await updateLocked(trx, auth, current, fields, input.status, input.attachments);
        const outcome = { listing, created: false };
        await beforeCommit(trx, outcome);
        return outcome;
      });
    },

    async patch(auth: AuthContext, listingId: string, input: PatchListingInput, beforeCommit?: BeforeCommit<ListingWriteResult>): Promise<ListingWriteResult> {
      if (input.attachments) validateAttachmentUrls(input.attachments, config);
      return db.transaction(async (trx) => {
        const current = await selectListing(trx, auth.orgId, { id: listingId }, true);
        if (!current) throw ApiError.notFound('No listing with this id in your organization.');
        const { listing } = await updateLocked(trx, auth, current, pickFields(input), input.status, input.attachments);
        const outcome = { listing, created: false };
        await beforeCommit?.(trx, outcome);
        return outcome;
      });
    },

    async remove(auth: AuthContext, listingId: string, beforeCommit?: BeforeCommit<{ id: string }>): Promise<void> {
      return db.transaction(async (trx) => {
        const current = await selectListing(trx, auth.orgId, { id: listingId }, true);
        if (!current) throw ApiError.notFound('No listing with this id in your organization.');
        const [deleted]: ListingRow[] = await trx('listings')
          .where({ id: current.id })
          .update({ deleted_at: trx.fn.now(), revision: current.revision + 1, change_seq: trx.raw("nextval('listing_change_seq')"), updated_at: trx.fn.now() })
          .returning('*');
        deleted.owner_email = current.owner_email;
        await appendEvent(trx, auth.orgId, 'listing.deleted', listingEventPayload(await fullDto(trx, deleted)), config);
        // Its attachments go too: the owed run deletes their stored objects (and, the listing
        // being deleted, fetches nothing).
        await replaceAttachments(trx, config, { orgId: auth.orgId, listingId: deleted.id, externalRef: deleted.external_ref, revision: deleted.revision }, []);
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
