/**
 * The example payloads of the API reference. They live in src (the document must not import test
 * code); test/unit/openapi/examples.test.ts parses every request example with the zod schema that
 * validates that request, every response example with its DTO schema, and holds the listing
 * example against test/support/listings.ts completeListing(), so an example cannot drift from
 * what the API accepts and answers.
 */

const ORG_ID = '0b5e8c1d-2f3a-4b5c-8d7e-9f0a1b2c3d4e';
const LISTING_ID = '3d7f1c2a-9b8e-4f60-a1b2-c3d4e5f60718';
const OWNER_ID = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const TARGET_ID = '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f';
const WEBHOOK_ID = '8e9f0a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b';
const DELIVERY_ID = '9f0a1b2c-3d4e-4f5a-9b7c-8d9e0f1a2b3c';
const EVENT_ID = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const REQUEST_ID = '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e';
const INBOX_ID = '4c5d6e7f-8a9b-4c0d-8e1f-2a3b4c5d6e7f';
const CONNECTION_ID = '7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a';
const PARTNER_ID = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const API_KEY_ID = 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e';
const IMAGE_ID = 'img_5f4e3d2c1b0a99887766aabb';
const T0 = '2026-03-02T09:15:00.000Z';
const T1 = '2026-03-02T09:15:04.000Z';

export const exampleIds = { ORG_ID, LISTING_ID, TARGET_ID, WEBHOOK_ID, DELIVERY_ID, EVENT_ID, REQUEST_ID, IMAGE_ID, CONNECTION_ID } as const;

/** completeListing() of test/support/listings.ts with its random external_ref and house number fixed. */
export const upsertListingExample = {
  external_ref: 'CRM-48217',
  title: 'Bright 2-room apartment',
  description: 'Quiet courtyard flat with balcony, fitted kitchen and parquet floors.',
  street: 'Beispielstraße',
  house_number: '12',
  zip_code: '10115',
  city: 'Berlin',
  property_type: 'apartment',
  living_area: 58,
  rooms: 2,
  rent_cold: 980,
  energy_certificate: { type: 'consumption', energy_value: 112.5, main_energy_source: 'gas', year_of_construction: 1998, efficiency_class: 'D' },
  status: 'draft',
} as const;

export const patchListingExample = { status: 'active' } as const;

const imageReady = {
  id: IMAGE_ID,
  filename: 'living-room.jpg',
  content_type: 'image/jpeg',
  size: 842133,
  sort_order: 0,
  state: 'ready',
  failure: null,
  width: 2400,
  height: 1600,
  variants: [
    { name: 'thumbnail', url: `https://images.immoflow.example/listing-images/${IMAGE_ID}/thumbnail.webp`, width: 400, height: 267, content_type: 'image/webp' },
    { name: 'large', url: `https://images.immoflow.example/listing-images/${IMAGE_ID}/large.webp`, width: 1600, height: 1067, content_type: 'image/webp' },
  ],
  upload_expires_at: '2026-03-02T10:15:00.000Z',
  created_at: T0,
  ready_at: T1,
} as const;

const ATTACHMENT_ID = 'att_5f4e3d2c1b0a99887766aabb';

/** A floor plan fetched from the CRM's URL (docs/ATTACHMENTS.md). */
export const attachmentExample = {
  id: ATTACHMENT_ID,
  url: 'https://crm.example.com/files/CRM-48217/floor-plan.pdf',
  kind: 'floor_plan',
  title: 'Grundriss',
  sort_order: 0,
  is_title: false,
  state: 'ready',
  failure_code: null,
  failure_message: null,
  content_type: 'application/pdf',
  size: 482113,
  sha256: '9b2f6c1d4e8a7b3c5d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e',
  width: null,
  height: null,
  variants: [],
  fetched_at: T1,
} as const;

/** The upsert example as the API answers it, once moderated, published and pushed to one target. */
export const listingExample = {
  id: LISTING_ID,
  ...upsertListingExample,
  status: 'active',
  live: true,
  revision: 2,
  marketing_type: 'rent',
  country: 'DE',
  floor: null,
  rent_warm: null,
  service_charges: null,
  deposit: null,
  purchase_price: null,
  available_from: null,
  geo: { lat: 52.5323, lng: 13.3846, precision: 'rooftop', provider: 'nominatim' },
  moderation: { state: 'approved', reasons: [], revision: 2, decided_at: T1 },
  publication: { state: 'published', published_at: T1 },
  owner: { id: OWNER_ID, email: 'owner@makler-west.example' },
  images: [imageReady],
  attachments: [attachmentExample],
  publications: [{ target_id: TARGET_ID, state: 'published', remote_id: 'PB-99120', published_at: T1, failure_code: null }],
  created_at: T0,
  updated_at: T1,
} as const;

export const createImageExample = { filename: 'living-room.jpg', content_type: 'image/jpeg', size: 842133 } as const;
export const imageTicketExample = {
  image_id: IMAGE_ID,
  upload_url: `https://storage.immoflow.example/listing-uploads/${IMAGE_ID}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=3f2a9c1b8e7d`,
  upload_token: 'iut_8c1f0e4b7d2a49c6b3e5f7a9d1c3e5b7',
  expires_at: '2026-03-02T10:15:00.000Z',
} as const;
export const completeUploadExample = { upload_token: imageTicketExample.upload_token } as const;
export const patchImageExample = { sort_order: 2 } as const;
export const imageProcessingExample = { ...imageReady, state: 'processing', width: null, height: null, variants: [], ready_at: null } as const;
export const imageExample = imageReady;

const listingRef = { listingId: LISTING_ID, externalRef: upsertListingExample.external_ref } as const;

/** The listing example at another revision and status, as an event of that moment carries it. */
function listingAt(revision: number, status: 'draft' | 'active') {
  const unpublished = status === 'draft';
  return {
    ...listingExample,
    revision,
    status,
    live: !unpublished,
    moderation: unpublished ? { state: 'pending', reasons: [], revision: null, decided_at: null } : listingExample.moderation,
    publication: unpublished ? { state: 'unpublished', published_at: null } : listingExample.publication,
    publications: unpublished ? [] : listingExample.publications,
  };
}

/** One eventPayload per event name Immoflow emits, as the code that appends each builds it. */
export const eventPayloadExamples = {
  'listing.created': { ...listingRef, ...listingAt(1, 'draft') },
  'listing.updated': {
    ...listingRef,
    ...listingAt(2, 'active'),
    previousStatus: 'draft',
    changedFields: ['status'],
    changed_fields: ['status'],
    previous_attributes: { status: 'draft' },
  },
  'listing.published': { ...listingRef, ...listingExample },
  'listing.deleted': { ...listingRef, ...listingAt(3, 'active') },
  'listing.moderated': {
    ...listingRef,
    ...listingAt(2, 'active'),
    outcome: 'rejected',
    reasons: [{ code: 'MISSING_ENERGY_CERTIFICATE', field: 'energy_certificate', message: 'A rental listing needs an energy certificate (GEG §87).', severity: 'reject' }],
  },
  'property.processing_succeeded': { ...listingRef, ...listingExample },
  'property.processing_failed': {
    ...listingRef,
    ...listingExample,
    attachments: [{ ...attachmentExample, state: 'failed', failure_code: 'http_4xx', failure_message: 'The server answered 404.', content_type: null, size: null, sha256: null, fetched_at: null }],
    failureCode: 'http_4xx',
    failureMessage: 'The server answered 404.',
  },
  'listing.image.uploaded': {
    ...listingRef,
    imageId: IMAGE_ID,
    image: {
      id: IMAGE_ID,
      sortOrder: 0,
      width: 2400,
      height: 1600,
      variants: imageReady.variants.map(({ name, url, width, height }) => ({ name, url, width, height })),
    },
  },
  'listing.image.deleted': { ...listingRef, imageId: IMAGE_ID },
  'publication.succeeded': { listingId: LISTING_ID, propertyId: upsertListingExample.external_ref, targetId: TARGET_ID, type: 'set', failureCode: null, failureMessage: null },
  'publication.failed': {
    listingId: LISTING_ID,
    propertyId: upsertListingExample.external_ref,
    targetId: TARGET_ID,
    type: 'set',
    failureCode: 'validation_failed',
    failureMessage: 'The portal refused the listing: zip_code is required.',
    fields: [{ path: 'zip_code', message: 'is required' }],
  },
  'target.connected': { targetId: TARGET_ID, targetName: 'Portal Berlin' },
  'target.disconnected': { targetId: TARGET_ID, targetName: 'Portal Berlin' },
  'request.parsing_failed': {
    targetId: INBOX_ID,
    createdAt: T0,
    failureCode: 'no_xml_attachment',
    failureMessage: 'The mail carries no OpenImmo-Feedback XML attachment.',
    sender: 'noreply@portal.example',
    recipient: 'makler-west.k7q2m9x4p1@in.immoflow.example',
    subject: 'Neue Anfrage zu Ihrem Objekt CRM-48217',
    body: 'Guten Tag, ich interessiere mich für die Wohnung …',
  },
} as const;

export const contactRequestExample = {
  id: REQUEST_ID,
  listing_id: LISTING_ID,
  external_ref: upsertListingExample.external_ref,
  portal: 'ImmobilienScout24',
  portal_object_id: '148765432',
  inbox_id: INBOX_ID,
  prospect: {
    salutation: 'Frau',
    first_name: 'Erika',
    last_name: 'Mustermann',
    company: null,
    email: 'erika.mustermann@example.org',
    phone: '+49 30 1234567',
    address: { street: 'Musterweg 5', postal_code: '10117', city: 'Berlin', country: 'DE' },
  },
  message: 'Guten Tag, ist die Wohnung noch frei? Ich würde sie gern besichtigen.',
  requested_at: '2026-03-02T09:10:00.000Z',
  created_at: T0,
  erased_at: null,
} as const;

export const erasedContactRequestExample = {
  ...contactRequestExample,
  prospect: { salutation: null, first_name: null, last_name: null, company: null, email: null, phone: null, address: { street: null, postal_code: null, city: null, country: null } },
  message: null,
  erased_at: T1,
} as const;

/** Reserved names: subscribable today, emitted by features that are not built yet. */
export const reservedEventPayloadExample = { listingId: LISTING_ID } as const;

export function eventExample(eventName: string, eventPayload: object) {
  return { eventId: EVENT_ID, eventName, eventPayload, eventTime: T1 };
}

export const createWebhookExample = { url: 'https://crm.makler-west.example/hooks/immoflow', events: ['listing.*', 'publication.failed'], description: 'CRM sync' } as const;
export const patchWebhookExample = { active: true } as const;
export const webhookExample = {
  id: WEBHOOK_ID,
  url: createWebhookExample.url,
  events: createWebhookExample.events,
  description: createWebhookExample.description,
  active: true,
  disabled_reason: null,
  consecutive_failures: 0,
  created_at: T0,
  updated_at: T0,
} as const;
export const webhookSecretExample = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const deliverySummaryExample = {
  id: DELIVERY_ID,
  webhook_id: WEBHOOK_ID,
  event_id: EVENT_ID,
  event_name: 'listing.published',
  status: 'succeeded',
  attempt_count: 1,
  last_status_code: 200,
  next_attempt_at: null,
  redelivery_of: null,
  created_at: T1,
  completed_at: T1,
} as const;
export const deliveryDetailExample = {
  ...deliverySummaryExample,
  payload: eventExample('listing.published', eventPayloadExamples['listing.published']),
  attempts: [{ attempt_number: 1, status_code: 200, duration_ms: 84, error: null, response_body: '{"ok":true}', attempted_at: T1 }],
} as const;

export const oauthResponseExample = { 'x-crm-token': 'crmt_2YbQk9sVd1…', token_type: 'Bearer', expires_in: 21600, expires_at: '2026-03-02T15:15:00.000Z' } as const;
export const integrateExample = { agencyId: 'agency-4711' } as const;
export const integrateResponseExample = { url: 'https://api.immoflow.example/connect/0b5e8c1d2f3a', expires_at: '2026-03-03T09:15:00.000Z' } as const;
export const connectionExample = {
  id: CONNECTION_ID,
  partner: { id: PARTNER_ID, name: 'Makler CRM GmbH' },
  agency_id: integrateExample.agencyId,
  status: 'delivered',
  api_key_id: API_KEY_ID,
  delivery_attempts: 1,
  last_status_code: 200,
  last_error: null,
  created_by: OWNER_ID,
  created_at: T0,
  delivered_at: T1,
  revoked_at: null,
} as const;

export const targetExample = {
  id: TARGET_ID,
  name: 'Portal Berlin',
  connection: { state: 'connected', connect_url: null, connect_url_expires_at: null, connected_at: T1, disconnected_at: null },
  publications: { published: 12, failed: 1 },
} as const;
export const connectTargetExample = { target_id: TARGET_ID, state: 'pending', url: 'https://portal.example/connect/0b5e8c1d2f3a', expires_at: '2026-03-03T09:15:00.000Z' } as const;
export const agencyKeyDeliveryExample = { 'x-api-key': 'sk_live_51Hf…', agencyId: ORG_ID } as const;

export const inboxExample = { id: INBOX_ID, address: 'makler-west.k7q2m9x4p1@in.immoflow.example', created_at: T0 } as const;

export const meExample = {
  organization: { id: ORG_ID, name: 'Makler West GmbH', plan: 'pro', active_listing_cap: 500, feature_flags: { LISTINGS_WRITE_API_ENABLED: true, WEBHOOKS_PUBLIC_API_ENABLED: true } },
  api_key: {
    id: API_KEY_ID,
    kind: 'secret',
    mode: 'live',
    scopes: ['events:read', 'listings:write'],
    effective_scopes: ['events:read', 'listings:read', 'listings:write'],
  },
  inbox: inboxExample,
} as const;

export const apiKeyExample = {
  id: API_KEY_ID,
  kind: 'secret',
  mode: 'live',
  name: 'CRM production',
  hint: 'sk_live_…a1b2',
  scopes: ['*:delete'],
  created_by: OWNER_ID,
  created_at: T0,
  last_used_at: T1,
  revoked_at: null,
} as const;

const REQUEST_ID_EXAMPLE = 'req_3f9c2a1b8e7d4c6f9a0b1c2d3e4f5a6b';

/** One error envelope per main code, as src/http/errors.ts writes it. */
export const errorExamples = {
  VALIDATION_ERROR: {
    error: {
      code: 'VALIDATION_ERROR',
      message: 'The request is invalid; see details.fields.',
      details: { fields: [{ path: 'zip_code', message: 'a postal code of 3 to 10 letters or digits' }] },
      request_id: REQUEST_ID_EXAMPLE,
    },
  },
  UNAUTHENTICATED: {
    error: { code: 'UNAUTHENTICATED', message: 'Missing API key. Send it in the X-API-Key header or as Authorization: Bearer <key>.', request_id: REQUEST_ID_EXAMPLE },
  },
  INSUFFICIENT_SCOPE: { error: { code: 'INSUFFICIENT_SCOPE', message: 'This API key lacks the scope listings:write.', request_id: REQUEST_ID_EXAMPLE } },
  NOT_FOUND: { error: { code: 'NOT_FOUND', message: 'No listing with this id in your organization.', request_id: REQUEST_ID_EXAMPLE } },
  IDEMPOTENCY_KEY_REUSED: {
    error: { code: 'IDEMPOTENCY_KEY_REUSED', message: 'This Idempotency-Key was used with a different request body.', request_id: REQUEST_ID_EXAMPLE },
  },
  PAYLOAD_TOO_LARGE: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body exceeds the limit of 1048576 bytes.', request_id: REQUEST_ID_EXAMPLE } },
  RATE_LIMITED: {
    error: { code: 'RATE_LIMITED', message: 'Rate limit exceeded; retry after the Retry-After seconds.', details: { limit: 1000, reset_seconds: 1800 }, request_id: REQUEST_ID_EXAMPLE },
  },
  DATABASE_UNAVAILABLE: { error: { code: 'DATABASE_UNAVAILABLE', message: 'The database is unavailable; retry.', request_id: REQUEST_ID_EXAMPLE } },
  TARGET_UNAVAILABLE: { error: { code: 'TARGET_UNAVAILABLE', message: 'The portal did not answer; retry later.', request_id: REQUEST_ID_EXAMPLE } },
} as const;
