import type { Db } from '../src/db/knex';
import type { FinalModeration, ListingPublishInput } from '../src/domain/listingPipeline';
import type { DuplicateCandidate, ModerationListing, ModerationPolicy } from '../src/domain/moderation';
import { AttachmentKind, AttachmentState, titleImageIndex } from '../src/domain/attachments';
import { appendEvent } from '../src/events/service';
import type { GeocodeResult } from '../src/geocoding/types';
import { ListingPublicDto, ListingRow, listingEventPayload, toListingDto } from '../src/listings/dto';
import { withRelations } from '../src/listings/relations';
import { oweSyncsForListings } from '../src/targets/publicationStarts';
import type { ActivityDeps } from './deps';
import { createGeocoder, type KnownGeocode } from './geocoding';
import { postalAddressOf } from '../src/domain/address';

export interface ModerationSnapshot {
  status: ListingRow['status'];
  listing: ModerationListing;
  duplicates: DuplicateCandidate[];
  policy: ModerationPolicy;
  reviewTimeoutMs: number;
  reviewTimeoutOutcome: 'approved' | 'rejected';
  /**
   * When the address changed: its coordinates if the cache or an in-memory provider knows them,
   * so that only a request to a remote provider costs the workflow an activity on the geocoding
   * queue. Absent then, and when the address did not change.
   */
  knownGeocode?: KnownGeocode;
}

export interface ApplyResult {
  applied: boolean;
  publicationState: ListingRow['publication_state'] | null;
}

/** Locks the listing at exactly this revision; undefined when a newer write superseded it. */
async function lockAtRevision(trx: Db, input: ListingPublishInput): Promise<ListingRow | undefined> {
  return trx('listings').where({ id: input.listingId, org_id: input.orgId, revision: input.revision }).forUpdate().first();
}

export function createListingActivities(deps: ActivityDeps) {
  const { db, config } = deps;
  const geocoder = createGeocoder(deps);

  /** The listing as GET returns it, read inside `trx` after its update: the events' payload. */
  async function currentDto(trx: Db, listingId: string): Promise<ListingPublicDto> {
    const row: ListingRow = await trx('listings as l').leftJoin('users as u', 'u.id', 'l.owner_user_id').where('l.id', listingId).first('l.*', 'u.email as owner_email');
    const [dto] = await withRelations(trx, config, [toListingDto(row)]);
    return dto;
  }

  /** Never fails the load: publication does not depend on coordinates, and the geocoding queue's activity can still try. */
  async function knownCoordinates(dto: ListingPublicDto): Promise<KnownGeocode | undefined> {
    try {
      return await geocoder.geocodeWithoutRequest(postalAddressOf(dto));
    } catch (error) {
      deps.logger.warn({ err: error, listingId: dto.id }, 'geocoding without a request failed; the geocoding queue will try');
      return undefined;
    }
  }

  return {
    async loadListingForModeration(input: ListingPublishInput): Promise<ModerationSnapshot | null> {
      const row: ListingRow | undefined = await db('listings')
        .where({ id: input.listingId, org_id: input.orgId, revision: input.revision })
        .whereNull('deleted_at')
        .first();
      if (!row) return null;
      const duplicates: DuplicateCandidate[] = await db('listings')
        .where({ org_id: input.orgId, normalized_address: row.normalized_address })
        .whereNot({ id: row.id })
        .whereNull('deleted_at')
        .whereNot('status', 'archived')
        // An address with no street is a postcode area, not a duplicate signal.
        .whereNotNull('street')
        .select('id', 'external_ref', db.raw('living_area::float as living_area'));
      const dto = toListingDto(row);
      const attachments: { kind: AttachmentKind; is_title: boolean; state: AttachmentState }[] = await db('attachments')
        .where({ listing_id: row.id })
        .orderBy('position')
        .select('kind', 'is_title', 'state');
      const title = titleImageIndex(attachments);
      const knownGeocode = input.addressChanged ? await knownCoordinates(dto) : undefined;
      return {
        ...(knownGeocode ? { knownGeocode } : {}),
        status: row.status,
        listing: {
          title: dto.title,
          description: dto.description,
          property_type: dto.property_type,
          marketing_type: dto.marketing_type,
          street: dto.street,
          house_number: dto.house_number,
          zip_code: dto.zip_code,
          city: dto.city,
          country: dto.country,
          living_area: dto.living_area,
          rooms: dto.rooms,
          rent_cold: dto.rent_cold,
          purchase_price: dto.purchase_price,
          energy_certificate: dto.energy_certificate,
          title_image_state: title >= 0 ? attachments[title].state : null,
        },
        duplicates,
        policy: {
          prohibitedWords: config.MODERATION_PROHIBITED_WORDS,
          rentPerSqmMin: config.MODERATION_RENT_PER_SQM_MIN,
          rentPerSqmMax: config.MODERATION_RENT_PER_SQM_MAX,
          duplicateAreaTolerance: 0.1,
        },
        reviewTimeoutMs: config.MODERATION_REVIEW_TIMEOUT,
        reviewTimeoutOutcome: config.MODERATION_REVIEW_TIMEOUT_OUTCOME,
      };
    },

    /** Records that an operator must decide; the workflow then waits durably. */
    async markNeedsReview(input: ListingPublishInput, moderation: FinalModeration, workflowId: string): Promise<boolean> {
      return db.transaction(async (trx) => {
        const row = await lockAtRevision(trx, input);
        if (!row || row.deleted_at) return false;
        // A retry after a commit whose completion was lost: already recorded, emit nothing twice.
        if (row.moderation_revision === input.revision && row.review_workflow_id === workflowId) return true;
        await trx('listings').where({ id: row.id }).update({
          moderation_state: 'needs_review',
          moderation_reasons: JSON.stringify(moderation.reasons),
          moderation_revision: input.revision,
          moderated_at: trx.fn.now(),
          review_workflow_id: workflowId,
          publication_state: row.status === 'active' ? 'needs_review' : row.publication_state,
        });
        await appendEvent(trx, input.orgId, 'listing.moderated', listingEventPayload(await currentDto(trx, row.id), { outcome: 'needs_review', reasons: moderation.reasons }), config);
        return true;
      });
    },

    /**
     * Applies moderation, geocoding and publication in one transaction, only if the listing is
     * still at the workflow's revision; the events commit with the state they describe.
     */
    async applyPipelineResult(input: ListingPublishInput, moderation: FinalModeration, geo: GeocodeResult | null | undefined): Promise<ApplyResult> {
      return db.transaction(async (trx) => {
        const row = await lockAtRevision(trx, input);
        if (!row || row.deleted_at) return { applied: false, publicationState: null };
        // Activities may run twice (a worker dies after commit): applying is recorded by the
        // revision with no review pending, so a retry answers without writing events again.
        if (row.moderation_revision === input.revision && row.review_workflow_id === null && row.moderation_state !== 'pending') {
          return { applied: true, publicationState: row.publication_state };
        }
        const wasPublished = row.publication_state === 'published';
        let publicationState: ListingRow['publication_state'] = 'unpublished';
        if (row.status === 'active') {
          publicationState = moderation.outcome === 'approved' ? 'published' : moderation.outcome === 'rejected' ? 'rejected' : 'needs_review';
        }
        const geoColumns =
          geo === undefined
            ? {}
            : geo === null
              ? { geo_lat: null, geo_lng: null, geo_precision: null, geo_provider: null, geo_revision: input.revision }
              : { geo_lat: geo.lat, geo_lng: geo.lng, geo_precision: geo.precision, geo_provider: geo.provider, geo_revision: input.revision };
        await trx('listings')
          .where({ id: row.id })
          .update({
            ...geoColumns,
            moderation_state: moderation.outcome,
            moderation_reasons: JSON.stringify(moderation.reasons),
            moderation_revision: input.revision,
            moderated_at: trx.fn.now(),
            review_workflow_id: null,
            publication_state: publicationState,
            published_at: publicationState === 'published' ? (wasPublished ? row.published_at : trx.fn.now()) : null,
          });

        const listing = await currentDto(trx, row.id);
        await appendEvent(trx, input.orgId, 'listing.moderated', listingEventPayload(listing, { outcome: moderation.outcome, reasons: moderation.reasons }), config);
        if (publicationState === 'published' && !wasPublished) await appendEvent(trx, input.orgId, 'listing.published', listingEventPayload(listing), config);
        // Every target follows: a published revision is pushed, anything else is taken down there.
        await oweSyncsForListings(trx, config, input.orgId, [row.id]);
        return { applied: true, publicationState };
      });
    },

    /** A deleted listing leaves every target. */
    async applyUnpublish(input: ListingPublishInput): Promise<boolean> {
      return db.transaction(async (trx) => {
        const row = await lockAtRevision(trx, input);
        if (!row) return false;
        if (row.publication_state === 'unpublished') return true;
        await trx('listings').where({ id: row.id }).update({ publication_state: 'unpublished', published_at: null, review_workflow_id: null });
        await oweSyncsForListings(trx, config, input.orgId, [row.id]);
        return true;
      });
    },
  };
}

export type ListingActivities = ReturnType<typeof createListingActivities>;
