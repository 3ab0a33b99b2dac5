import { z } from 'zod';
import { AttachmentDto, attachmentDtoSchema } from '../attachments/schema';
import { LISTING_STATUSES } from '../domain/listingLifecycle';
import { PUBLICATION_FAILURE_CODES } from '../domain/publications';
import { ListingImageDto, listingImageDtoSchema } from '../images/schema';
import { PROPERTY_TYPES, energyCertificateSchema } from './schema';

const moderationReasonSchema = z
  .object({
    code: z.string().meta({ example: 'MISSING_ENERGY_CERTIFICATE' }),
    field: z.string().optional(),
    message: z.string(),
    severity: z.enum(['reject', 'review']),
  })
  .meta({ id: 'ModerationReason' });

export const listingPublicationDtoSchema = z
  .object({
    target_id: z.uuid(),
    state: z.enum(['pending', 'published', 'failed', 'deleted']).meta({ description: 'published: the target holds the revision last pushed; failed: the last push failed (see failure_code); deleted: taken down there.' }),
    remote_id: z.string().nullable().meta({ description: 'The listing\'s id on the target.' }),
    published_at: z.iso.datetime().nullable(),
    failure_code: z.enum(PUBLICATION_FAILURE_CODES).nullable(),
  })
  .meta({ id: 'ListingPublication' });

export type ListingPublicationDto = z.infer<typeof listingPublicationDtoSchema>;

/** The one shape a listing has on the wire. Documented in /openapi.json from this schema. */
export const listingPublicDtoSchema = z
  .object({
    id: z.uuid(),
    external_ref: z.string(),
    status: z.enum(LISTING_STATUSES).meta({ description: 'Lifecycle status as requested by your CRM. It is not whether the listing is live: see `live` and `publication.state`.' }),
    live: z.boolean().meta({ description: 'Whether the listing is published (publication.state is published): status active, approved by moderation, and not rented, archived or deleted since. A listing PATCHed to active reads live: false until the pipeline publishes it.' }),
    revision: z.number().int().meta({ description: 'Bumped on every write; the publish pipeline applies results only to the revision it ran for.' }),
    title: z.string().nullable(),
    description: z.string().nullable(),
    property_type: z.enum(PROPERTY_TYPES).nullable(),
    marketing_type: z.enum(['rent', 'sale']),
    street: z.string().nullable(),
    house_number: z.string().nullable(),
    zip_code: z.string().nullable(),
    city: z.string().nullable(),
    country: z.string(),
    living_area: z.number().nullable(),
    rooms: z.number().nullable(),
    floor: z.number().int().nullable(),
    rent_cold: z.number().nullable(),
    rent_warm: z.number().nullable(),
    service_charges: z.number().nullable(),
    deposit: z.number().nullable(),
    purchase_price: z.number().nullable(),
    available_from: z.string().nullable(),
    energy_certificate: energyCertificateSchema.nullable(),
    geo: z
      .object({
        lat: z.number(),
        lng: z.number(),
        precision: z.enum(['rooftop', 'street', 'postcode', 'city']).meta({ description: 'How exact the coordinates are.' }),
        provider: z.string(),
      })
      .nullable()
      .meta({ description: 'null until geocoded, or when the address could not be found.' }),
    moderation: z.object({
      state: z.enum(['pending', 'approved', 'rejected', 'needs_review']),
      reasons: z.array(moderationReasonSchema),
      revision: z.number().int().nullable().meta({ description: 'The revision this decision is for.' }),
      decided_at: z.iso.datetime().nullable(),
    }),
    publication: z.object({
      state: z.enum(['unpublished', 'pending', 'published', 'rejected', 'needs_review']),
      published_at: z.iso.datetime().nullable(),
    }),
    owner: z.object({ id: z.uuid(), email: z.string() }).nullable(),
    images: z.array(listingImageDtoSchema).meta({ description: 'The gallery in sort_order, with each image\'s state and variant URLs.' }),
    publications: z.array(listingPublicationDtoSchema).meta({ description: 'The listing on each target (portal) your organisation publishes to.' }),
    attachments: z.array(attachmentDtoSchema).meta({ description: 'Files by URL in the order sent, each with its fetch state (docs/ATTACHMENTS.md).' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'ListingPublicDto' });

export type ListingPublicDto = z.infer<typeof listingPublicDtoSchema>;

export interface ListingRow {
  id: string;
  org_id: string;
  external_ref: string;
  status: ListingPublicDto['status'];
  revision: number;
  change_seq: string;
  owner_user_id: string | null;
  owner_email?: string | null;
  title: string | null;
  description: string | null;
  property_type: ListingPublicDto['property_type'];
  marketing_type: 'rent' | 'sale';
  street: string | null;
  house_number: string | null;
  zip_code: string | null;
  city: string | null;
  country: string;
  normalized_address: string;
  living_area: string | null;
  rooms: string | null;
  floor: number | null;
  rent_cold: string | null;
  rent_warm: string | null;
  service_charges: string | null;
  deposit: string | null;
  purchase_price: string | null;
  available_from: string | null;
  energy_certificate: ListingPublicDto['energy_certificate'];
  geo_lat: number | null;
  geo_lng: number | null;
  geo_precision: 'rooftop' | 'street' | 'postcode' | 'city' | null;
  geo_provider: string | null;
  moderation_state: ListingPublicDto['moderation']['state'];
  moderation_reasons: ListingPublicDto['moderation']['reasons'];
  moderation_revision: number | null;
  moderated_at: Date | null;
  review_workflow_id: string | null;
  publication_state: ListingPublicDto['publication']['state'];
  published_at: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  /** The revision whose write last changed the attachments (null: never had any). */
  attachments_revision?: number | null;
}

const num = (value: string | null): number | null => (value === null ? null : Number(value));

export function toListingDto(
  row: Omit<ListingRow, 'change_seq'>,
  images: ListingImageDto[] = [],
  publications: ListingPublicationDto[] = [],
  attachments: AttachmentDto[] = [],
): ListingPublicDto {
  return {
    id: row.id,
    external_ref: row.external_ref,
    status: row.status,
    live: row.publication_state === 'published',
    revision: row.revision,
    title: row.title,
    description: row.description,
    property_type: row.property_type,
    marketing_type: row.marketing_type,
    street: row.street,
    house_number: row.house_number,
    zip_code: row.zip_code,
    city: row.city,
    country: row.country,
    living_area: num(row.living_area),
    rooms: num(row.rooms),
    floor: row.floor,
    rent_cold: num(row.rent_cold),
    rent_warm: num(row.rent_warm),
    service_charges: num(row.service_charges),
    deposit: num(row.deposit),
    purchase_price: num(row.purchase_price),
    available_from: row.available_from,
    energy_certificate: row.energy_certificate,
    geo:
      row.geo_lat !== null && row.geo_lng !== null && row.geo_precision
        ? { lat: row.geo_lat, lng: row.geo_lng, precision: row.geo_precision, provider: row.geo_provider ?? 'unknown' }
        : null,
    moderation: {
      state: row.moderation_state,
      reasons: row.moderation_reasons,
      revision: row.moderation_revision,
      decided_at: row.moderated_at?.toISOString() ?? null,
    },
    publication: { state: row.publication_state, published_at: row.published_at?.toISOString() ?? null },
    owner: row.owner_user_id ? { id: row.owner_user_id, email: row.owner_email ?? '' } : null,
    images,
    publications,
    attachments,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * The payload of every `listing.*` and `property.*` event: the listing as GET returns it, plus
 * the ids older subscribers key on (`listingId`, `externalRef`) and the event's own fields.
 */
export function listingEventPayload(listing: ListingPublicDto, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { listingId: listing.id, externalRef: listing.external_ref, ...listing, ...extra };
}

/** The fields a client can set (and status and attachments) whose value changed, Stripe-style. */
export function listingChanges(before: ListingPublicDto, after: ListingPublicDto, fields: readonly string[]): { changed_fields: string[]; previous_attributes: Record<string, unknown> } {
  const previous: Record<string, unknown> = {};
  for (const field of fields) {
    const from = (before as unknown as Record<string, unknown>)[field];
    const to = (after as unknown as Record<string, unknown>)[field];
    if (JSON.stringify(from) !== JSON.stringify(to)) previous[field] = from;
  }
  return { changed_fields: Object.keys(previous), previous_attributes: previous };
}
