import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { attachmentDtoSchema } from '../attachments/schema';
import { ATTACHMENT_FAILURE_CODES } from '../domain/attachments';
import { EVENT_NAMES } from '../domain/events';
import { PUBLICATION_FAILURE_CODES } from '../domain/publications';
import { listEventsQuerySchema } from '../events/schema';
import { listingPublicDtoSchema } from '../listings/dto';
import { listListingsQuerySchema, patchListingSchema, upsertListingSchema } from '../listings/schema';
import { completeUploadSchema, createImageSchema, deleteImageQuerySchema, imageUploadTicketSchema, listingImageDtoSchema, patchImageSchema } from '../images/schema';
import { connectionDtoSchema, integrateResponseSchema, integrateSchema, oauthResponseSchema } from '../partners/schema';
import { registerRequestPaths } from '../requests/openapi';
import { agencyKeyDeliverySchema, connectTargetResultSchema, targetDtoSchema } from '../targets/schema';
import { createWebhookSchema, listDeliveriesQuerySchema, patchWebhookSchema } from '../webhooks/schema';

const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'VALIDATION_ERROR' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional().meta({ description: 'For VALIDATION_ERROR: { fields: [{ path, message }] }' }),
      request_id: z.string(),
    }),
  })
  .meta({ id: 'Error' });

/** Reference 000: images belong to a listing that exists, and should be ready before it goes live. */
export const RECOMMENDED_ORDER =
  'Recommended order: 1. create the listing (status draft), 2. upload its images, 3. set status to active once the images are ready.';

const cursorPaginationSchema = z
  .object({ next_cursor: z.string().nullable(), has_more: z.boolean(), limit: z.number().int() })
  .meta({ id: 'CursorPagination' });

const eventSchema = z
  .object({ eventId: z.uuid(), eventName: z.enum(EVENT_NAMES), eventPayload: z.record(z.string(), z.unknown()), eventTime: z.iso.datetime() })
  .meta({ id: 'Event' });

const idempotencyHeader = z.object({
  'Idempotency-Key': z.uuidv4().optional().meta({ description: 'UUID v4; kept 24 h. Same key + same body → stored response; other body → 409.' }),
});

function errors(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'VALIDATION_ERROR (details.fields lists every bad field)',
    401: 'UNAUTHENTICATED: missing, unknown or revoked key',
    403: 'INSUFFICIENT_SCOPE (pk_ key or missing scope) or FORBIDDEN (plan limit, owner_email)',
    404: 'NOT_FOUND: flag off, or the listing belongs to another organization',
    409: 'IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE, INVALID_STATUS_TRANSITION or WEBHOOK_INACTIVE',
    413: 'PAYLOAD_TOO_LARGE',
    429: 'RATE_LIMITED (see Retry-After)',
    503: 'A dependency is down (DATABASE_UNAVAILABLE, …); retry',
  };
  return Object.fromEntries(
    statuses.map((status) => [status, { description: descriptions[status], content: { 'application/json': { schema: errorSchema } } }]),
  );
}

const dataOf = (schema: z.ZodType) => ({ 'application/json': { schema: z.object({ data: schema }) } });

/** One error response with a route's own description (and headers), where errors()'s generic one would mislead. */
const errorResponse = (description: string, headers?: Record<string, { description: string; schema: { type: 'string' } }>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: errorSchema } },
});

/** What publication.succeeded / publication.failed carry (reference 003), for the target routes' descriptions. */
const PUBLICATION_EVENTS = `Every push is announced as \`publication.succeeded\` or \`publication.failed\` with \`{ listingId, propertyId, targetId, type: 'set' | 'delete', failureCode, failureMessage, fields? }\` (\`targetId\` is this target's id; \`failureCode\` is null on success, else one of ${PUBLICATION_FAILURE_CODES.join(', ')}; \`fields\` is the target's field errors on validation_failed).`;

/** OpenAPI 3.1, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(serverUrl: string) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'ApiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  const common = errors(401, 403, 404, 429, 503);
  const listingId = z.object({ id: z.uuid() });

  registry.registerPath({
    method: 'post',
    path: '/api/v1/listings',
    summary: 'Create or update a listing by external_ref (upsert)',
    tags: ['Listings'],
    request: { headers: idempotencyHeader, body: { content: { 'application/json': { schema: upsertListingSchema } } } },
    responses: {
      201: { description: 'Created', content: dataOf(listingPublicDtoSchema) },
      200: { description: 'Updated (the external_ref existed)', content: dataOf(listingPublicDtoSchema) },
      ...errors(400, 401, 403, 404, 409, 413, 429, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings',
    summary: 'List listings (cursor pagination, oldest change first)',
    tags: ['Listings'],
    request: { query: listListingsQuerySchema },
    responses: {
      200: { description: 'A page', content: { 'application/json': { schema: z.object({ data: z.array(listingPublicDtoSchema), pagination: cursorPaginationSchema }) } } },
      ...errors(400, 401, 403, 404, 429, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings/{id}',
    summary: 'Get one listing',
    tags: ['Listings'],
    request: { params: listingId },
    responses: { 200: { description: 'The listing', content: dataOf(listingPublicDtoSchema) }, ...common },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/listings/{id}',
    summary: 'Partially update a listing or move its lifecycle (draft, active, rented, archived)',
    tags: ['Listings'],
    request: { params: listingId, headers: idempotencyHeader, body: { content: { 'application/json': { schema: patchListingSchema } } } },
    responses: { 200: { description: 'Updated', content: dataOf(listingPublicDtoSchema) }, ...errors(400, 401, 403, 404, 409, 429, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/listings/{id}',
    summary: 'Delete a listing (needs listings:delete; emits listing.deleted)',
    tags: ['Listings'],
    request: { params: listingId, headers: idempotencyHeader },
    responses: { 200: { description: 'Deleted', content: dataOf(z.object({ id: z.uuid(), deleted: z.literal(true) })) }, ...common },
  });
  const imageIds = z.object({ id: z.uuid(), image_id: z.string().meta({ example: 'img_5f4e3d2c1b0a99887766aabb' }) });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/listings/{id}/images',
    summary: 'Request a presigned upload URL for one image',
    description: `${RECOMMENDED_ORDER}

Then \`PUT\` the bytes to \`upload_url\` before \`expires_at\` (no API key; the URL is the credential). The image is processed in the background: its \`state\` on the listing goes \`awaiting_upload\` → \`processing\` → \`ready\` (with variant URLs and a \`listing.image.uploaded\` event) or \`failed\` (with a failure code: UPLOAD_EXPIRED, FILE_TOO_LARGE, EMPTY_FILE, TYPE_MISMATCH, UNDECODABLE, PROCESSING_FAILED).`,
    tags: ['Images'],
    request: { params: listingId, headers: idempotencyHeader, body: { content: { 'application/json': { schema: createImageSchema } } } },
    responses: { 201: { description: 'The upload ticket', content: dataOf(imageUploadTicketSchema) }, ...errors(400, 401, 403, 404, 409, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/listings/{id}/images/{image_id}/complete',
    summary: 'Optional: tell us the PUT finished, with the single-use upload_token (processing starts at once)',
    tags: ['Images'],
    request: { params: imageIds, body: { content: { 'application/json': { schema: completeUploadSchema } } } },
    responses: {
      202: { description: 'Processing', content: dataOf(listingImageDtoSchema) },
      ...errors(400, 401, 403, 404, 429, 503),
      409: { description: 'CONFLICT: the upload_token has already been used', content: { 'application/json': { schema: errorSchema } } },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings/{id}/images/{image_id}',
    summary: "One image: its state, failure code and variant URLs",
    tags: ['Images'],
    request: { params: imageIds },
    responses: { 200: { description: 'The image', content: dataOf(listingImageDtoSchema) }, ...common },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/listings/{id}/images/{image_id}',
    summary: "Change an image's sort_order",
    tags: ['Images'],
    request: { params: imageIds, body: { content: { 'application/json': { schema: patchImageSchema } } } },
    responses: { 200: { description: 'The image', content: dataOf(listingImageDtoSchema) }, ...errors(400, 401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/listings/{id}/images',
    summary: 'Remove an image and every stored object of it (emits listing.image.deleted)',
    tags: ['Images'],
    request: { params: listingId, query: deleteImageQuerySchema, headers: idempotencyHeader },
    responses: {
      200: { description: 'Deleted', content: dataOf(z.object({ image_id: z.string(), deleted: z.literal(true) })) },
      ...errors(400, 401, 403, 404, 429, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings/{id}/attachments',
    summary: "A listing's URL attachments, in the order sent, with their fetch state",
    description: `Attachments are sent as \`attachments: [{url, kind, title?, sort_order?, is_title?}]\` on POST and PATCH /listings (at most 150; the list replaces the previous one; an unchanged URL is not fetched again). Each is fetched in the background (\`propertyProcessing\` workflow): \`pending\` → \`fetching\` → \`ready\` or \`failed\` with one of ${ATTACHMENT_FAILURE_CODES.join(', ')}. When all are settled, \`property.processing_succeeded\` or \`property.processing_failed\` (with failureCode and failureMessage of the first failure) carries the listing as GET returns it. See docs/ATTACHMENTS.md.`,
    tags: ['Attachments'],
    request: { params: listingId },
    responses: {
      200: { description: 'Every attachment (one page)', content: { 'application/json': { schema: z.object({ data: z.array(attachmentDtoSchema), pagination: cursorPaginationSchema }) } } },
      ...common,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/events',
    summary: 'Read the event log (oldest first; resumable with next_cursor)',
    tags: ['Events'],
    request: { query: listEventsQuerySchema },
    responses: {
      200: { description: 'A page of events', content: { 'application/json': { schema: z.object({ data: z.array(eventSchema), pagination: cursorPaginationSchema }) } } },
      ...errors(400, 401, 403, 429, 503),
    },
  });
  const webhookId = z.object({ id: z.uuid() });
  const deliveryIds = z.object({ id: z.uuid(), delivery_id: z.uuid() });
  const webhookRoutes: { method: 'get' | 'post' | 'patch' | 'delete'; path: string; summary: string; params?: z.ZodObject; body?: z.ZodType; query?: z.ZodObject; status: number }[] = [
    { method: 'post', path: '/api/v1/webhooks', summary: 'Create a subscription; the response carries the secret, once', body: createWebhookSchema, status: 201 },
    { method: 'get', path: '/api/v1/webhooks', summary: 'List subscriptions (never the secret)', status: 200 },
    { method: 'get', path: '/api/v1/webhooks/{id}', summary: 'Get a subscription', params: webhookId, status: 200 },
    { method: 'patch', path: '/api/v1/webhooks/{id}', summary: 'Update a subscription; {"active": true} re-enables it', params: webhookId, body: patchWebhookSchema, status: 200 },
    { method: 'delete', path: '/api/v1/webhooks/{id}', summary: 'Delete a subscription (needs webhooks:delete)', params: webhookId, status: 200 },
    { method: 'post', path: '/api/v1/webhooks/{id}/rotate-secret', summary: 'New secret, shown once; the old one signs on for the grace period', params: webhookId, status: 200 },
    { method: 'get', path: '/api/v1/webhooks/{id}/deliveries', summary: 'Deliveries (offset pagination; no payloads or bodies)', params: webhookId, query: listDeliveriesQuerySchema, status: 200 },
    { method: 'get', path: '/api/v1/webhooks/{id}/deliveries/{delivery_id}', summary: 'A delivery with every attempt', params: deliveryIds, status: 200 },
    { method: 'post', path: '/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver', summary: 'Redeliver (202; 409 WEBHOOK_INACTIVE while disabled)', params: deliveryIds, status: 202 },
    { method: 'post', path: '/api/v1/webhooks/{id}/test', summary: 'Send a signed webhook.test event', params: webhookId, status: 202 },
  ];
  for (const route of webhookRoutes) {
    registry.registerPath({
      method: route.method,
      path: route.path,
      summary: route.summary,
      tags: ['Webhooks'],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body ? { body: { content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses: { [route.status]: { description: 'OK' }, ...errors(400, 401, 403, 404, 409, 429, 503) },
    });
  }

  registry.registerComponent('securitySchemes', 'CrmToken', { type: 'http', scheme: 'bearer', description: 'The x-crm-token from POST /crm/oauth (valid 6 h; cache it).' });
  registry.registerPath({
    method: 'post',
    path: '/crm/oauth',
    summary: 'CRM partners: exchange client credentials for an x-crm-token (valid 6 h; at most 10 requests an hour)',
    description: 'Reference 001 step 1. The token is also returned in the `x-crm-token` response header. See docs/PARTNERS.md.',
    tags: ['Partners'],
    security: [],
    request: { headers: z.object({ 'x-crm-client-id': z.string(), 'x-crm-client-secret': z.string() }) },
    responses: { 200: { description: 'A token', content: { 'application/json': { schema: oauthResponseSchema } } }, ...errors(401, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/crm/integrate',
    summary: "CRM partners: a single-use signed connect link for one agency (your CRM's agencyId)",
    description: 'Reference 001 step 2. A new link for the same agencyId supersedes the previous one. The link expires after 24 h.',
    tags: ['Partners'],
    security: [{ CrmToken: [] }],
    request: { body: { content: { 'application/json': { schema: integrateSchema } } } },
    responses: { 201: { description: 'The link', content: { 'application/json': { schema: integrateResponseSchema } } }, ...errors(400, 401, 429, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/partners/connections',
    summary: 'CRM partners this organisation has connected, with the state of each key delivery',
    tags: ['Partners'],
    responses: {
      200: { description: 'The connections', content: { 'application/json': { schema: z.object({ data: z.array(connectionDtoSchema), pagination: cursorPaginationSchema }) } } },
      ...errors(401, 403, 429, 503),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/partners/connections/{id}',
    summary: "Revoke a partner connection and its agency key, at once (needs partners:delete)",
    tags: ['Partners'],
    request: { params: z.object({ id: z.uuid() }) },
    responses: { 200: { description: 'Revoked', content: dataOf(connectionDtoSchema) }, ...common },
  });

  const targetId = z.object({ id: z.uuid().meta({ example: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f' }) });
  const targetNotFound = errorResponse('NOT_FOUND: no enabled target with this id');
  registry.registerPath({
    method: 'get',
    path: '/api/v1/targets',
    summary: 'Portals this organisation can publish to, with its connection to each and how many listings each holds (needs targets:read)',
    description: 'Publication targets are the portals Immoflow pushes your published listings to, as their CRM partner. One page holds every enabled target (`has_more` is always false). Secret keys only.',
    tags: ['Targets'],
    responses: {
      200: { description: 'The targets', content: { 'application/json': { schema: z.object({ data: z.array(targetDtoSchema), pagination: cursorPaginationSchema }) } } },
      ...errors(401, 403, 429, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/targets/{id}',
    summary: 'One target and this organisation\'s connection to it (needs targets:read)',
    tags: ['Targets'],
    request: { params: targetId },
    responses: { 200: { description: 'The target', content: dataOf(targetDtoSchema) }, ...errors(401, 403, 429, 503), 404: targetNotFound },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/targets/{id}/connect',
    summary: "Start connecting this organisation to a target: the portal's signed link for the agency to open (needs targets:write)",
    description: `Reference 001 with Immoflow as the CRM partner: Immoflow calls the portal's \`/crm/integrate\` with its cached \`x-crm-token\` for that portal (a new one from the portal's \`/crm/oauth\` when it has none, it expired or the portal refused it) and your organisation id as \`agencyId\`, and answers with the portal's signed \`url\`. The connection is then \`pending\`.

Open \`url\` to log in or register on the portal and confirm. The portal then POSTs the agency key to Immoflow's partner hook (\`POST /partner-hooks/{targetId}\`); the connection becomes \`connected\`, \`target.connected\` is emitted with \`{ targetId, targetName }\`, and every listing of yours that is active and published is pushed to the target and kept in sync there from then on.

A new connect supersedes the previous link; on a connected target it only issues a fresh link and the connection stays \`connected\`. ${PUBLICATION_EVENTS}`,
    tags: ['Targets'],
    request: { params: targetId },
    responses: {
      201: {
        description: 'The link',
        content: {
          'application/json': {
            schema: z.object({ data: connectTargetResultSchema }),
            example: {
              data: {
                target_id: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f',
                state: 'pending',
                url: 'https://portal.example/connect/0b5e…',
                expires_at: '2025-01-02T10:00:00.000Z',
              },
            },
          },
        },
      },
      ...errors(401, 403, 429),
      404: targetNotFound,
      502: errorResponse("TARGET_UNAVAILABLE: the portal did not answer (or answered without a link); TARGET_REFUSED: the portal refused Immoflow's credentials. Retry later."),
      503: errorResponse('TARGET_RATE_LIMITED: the portal rate-limits /crm/oauth or /crm/integrate, retry after Retry-After seconds; or a dependency is down (DATABASE_UNAVAILABLE, …)', {
        'Retry-After': { description: 'Seconds to wait (TARGET_RATE_LIMITED)', schema: { type: 'string' } },
      }),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/targets/{id}/connection',
    summary: "Disconnect from a target: stop publishing there and delete this organisation's listings on it (needs targets:delete)",
    description: `The connection becomes \`disconnected\` at once and \`target.disconnected\` is emitted with \`{ targetId, targetName }\`. Every listing of yours on the target is then deleted there in the background, each announced as \`publication.succeeded\` with \`type: 'delete'\`; your listings on Immoflow are not touched. Connect again to publish there again. ${PUBLICATION_EVENTS}`,
    tags: ['Targets'],
    request: { params: targetId },
    responses: {
      200: { description: 'The target, its connection disconnected', content: dataOf(targetDtoSchema) },
      ...errors(401, 403, 429, 503),
      404: errorResponse('NOT_FOUND: no enabled target with this id, or this organisation is not connected to it'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/partner-hooks/{targetId}',
    summary: "Portals: deliver an agency's key to Immoflow (reference 001 step 4), signed with the target's webhook secret",
    description: `Called by the portal, not by API clients: no API key. After the agency confirmed the link from \`POST /api/v1/targets/{id}/connect\`, the portal POSTs \`{ "x-api-key", "agencyId" }\` (agencyId is the organisation id Immoflow sent to /crm/integrate). The credential is the signature over the raw body: \`X-Webhook-Signature: sha256=<hex HMAC-SHA256(key = the whsec_… secret, data = raw body)>\`, or the Standard Webhooks headers (\`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`). The key is stored encrypted, the connection becomes \`connected\`, \`target.connected\` is emitted and the organisation's published listings are pushed. Redelivering the same key is answered 200 and changes nothing.`,
    tags: ['Targets'],
    security: [],
    request: {
      params: z.object({ targetId: z.uuid() }),
      headers: z.object({
        'X-Webhook-Signature': z.string().optional().meta({ example: 'sha256=5d41402abc4b2a76b9719d911017c592…', description: 'Either this or the three Standard Webhooks headers.' }),
        'webhook-id': z.string().optional(),
        'webhook-timestamp': z.string().optional(),
        'webhook-signature': z.string().optional(),
      }),
      body: {
        required: true,
        content: {
          'application/json': {
            schema: agencyKeyDeliverySchema.meta({ id: 'AgencyKeyDelivery' }),
            example: { 'x-api-key': 'sk_live_…', agencyId: '0b5e8c1d-2f3a-4b5c-8d7e-9f0a1b2c3d4e' },
          },
        },
      },
    },
    responses: {
      200: { description: 'Received', content: dataOf(z.object({ received: z.literal(true) })) },
      400: errorResponse('VALIDATION_ERROR: the body is not JSON or not { "x-api-key", "agencyId" }'),
      401: errorResponse("UNAUTHENTICATED: the delivery is not signed with this target's webhook secret"),
      404: errorResponse('NOT_FOUND: no enabled target with this id, or no connection of this agency is waiting for a key from this portal'),
      413: errorResponse('PAYLOAD_TOO_LARGE: a key delivery is at most 16 kB'),
      503: errorResponse('A dependency is down (DATABASE_UNAVAILABLE, …); retry'),
    },
  });

  registerRequestPaths(registry, { errors, dataOf, cursorPagination: cursorPaginationSchema });

  registry.registerPath({
    method: 'get',
    path: '/api/v1/me',
    summary: 'The organization, mode and scopes of the calling key, and (secret keys only) the inbox address for contact requests',
    tags: ['Identity'],
    responses: { 200: { description: 'Key context' }, ...errors(401, 429) },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Immoflow API',
      version: '1.0.0',
      description: `Listing sync for real-estate CRMs. Authenticate with \`X-API-Key\`. Errors use \`{ error: { code, message, details?, request_id } }\`.\n\n${RECOMMENDED_ORDER}`,
    },
    servers: [{ url: serverUrl }],
    security: [{ ApiKey: [] }],
  });
}
