import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PUBLICATION_FAILURE_CODES } from '../../domain/publications';
import { agencyKeyDeliverySchema, connectTargetResultSchema, targetDtoSchema } from '../../targets/schema';
import { agencyKeyDeliveryExample, connectTargetExample, exampleIds, targetExample } from '../examples';
import { dataOf, errorResponse, errors, json, pageOf, signatureHeaders, uuidParam } from '../shared';

/** What publication.succeeded / publication.failed carry (reference 003), for the target routes' descriptions. */
const PUBLICATION_EVENTS = `Every push is announced as \`publication.succeeded\` or \`publication.failed\` with \`{ listingId, propertyId, targetId, type: 'set' | 'delete', failureCode, failureMessage, fields? }\` (\`targetId\` is this target's id; \`failureCode\` is null on success, else one of ${PUBLICATION_FAILURE_CODES.join(', ')}; \`fields\` is the target's field errors on validation_failed).`;

export function registerTargetPaths(registry: OpenAPIRegistry): void {
  const tags = ['Targets'];
  const targetId = z.object({ id: uuidParam(exampleIds.TARGET_ID, 'The target id') });
  const targetNotFound = errorResponse('NOT_FOUND: no enabled target with this id', 'NOT_FOUND');
  registry.registerPath({
    method: 'get',
    path: '/api/v1/targets',
    operationId: 'listTargets',
    summary: 'List publication targets',
    description:
      'Portals this organisation can publish to, with its connection to each and how many listings each holds (needs `targets:read`). Publication targets are the portals Immoflow pushes your published listings to, as their CRM partner. One page holds every enabled target (`has_more` is always false). Secret keys only.',
    tags,
    responses: { 200: { description: 'The targets', content: pageOf(targetDtoSchema, targetExample) }, ...errors(401, 403, 429, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/targets/{id}',
    operationId: 'getTarget',
    summary: 'Get a publication target',
    description: "One target and this organisation's connection to it (needs `targets:read`).",
    tags,
    request: { params: targetId },
    responses: { 200: { description: 'The target', content: dataOf(targetDtoSchema, targetExample) }, ...errors(401, 403, 429, 503), 404: targetNotFound },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/targets/{id}/connect',
    operationId: 'connectTarget',
    summary: 'Connect to a publication target',
    description: `Starts connecting this organisation to a target and answers with the portal's signed link for the agency to open (needs \`targets:write\`).

Reference 001 with Immoflow as the CRM partner: Immoflow calls the portal's \`/crm/integrate\` with its cached \`x-crm-token\` for that portal (a new one from the portal's \`/crm/oauth\` when it has none, it expired or the portal refused it) and your organisation id as \`agencyId\`, and answers with the portal's signed \`url\`. The connection is then \`pending\`.

Open \`url\` to log in or register on the portal and confirm. The portal then POSTs the agency key to Immoflow's partner hook (\`POST /partner-hooks/{targetId}\`); the connection becomes \`connected\`, \`target.connected\` is emitted with \`{ targetId, targetName }\`, and every listing of yours that is active and published is pushed to the target and kept in sync there from then on.

A new connect supersedes the previous link; on a connected target it only issues a fresh link and the connection stays \`connected\`. ${PUBLICATION_EVENTS}`,
    tags,
    request: { params: targetId },
    responses: {
      201: { description: 'The link', content: dataOf(connectTargetResultSchema, connectTargetExample) },
      ...errors(401, 403, 429),
      404: targetNotFound,
      502: errorResponse("TARGET_UNAVAILABLE: the portal did not answer (or answered without a link); TARGET_REFUSED: the portal refused Immoflow's credentials. Retry later.", 'TARGET_UNAVAILABLE'),
      503: errorResponse('TARGET_RATE_LIMITED: the portal rate-limits /crm/oauth or /crm/integrate, retry after Retry-After seconds; or a dependency is down (DATABASE_UNAVAILABLE, …)', 'DATABASE_UNAVAILABLE', {
        'Retry-After': { description: 'Seconds to wait (TARGET_RATE_LIMITED)', schema: { type: 'string' } },
      }),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/targets/{id}/connection',
    operationId: 'disconnectTarget',
    summary: 'Disconnect from a publication target',
    description: `Stops publishing there and deletes this organisation's listings on it (needs \`targets:delete\`). The connection becomes \`disconnected\` at once and \`target.disconnected\` is emitted with \`{ targetId, targetName }\`. Every listing of yours on the target is then deleted there in the background, each announced as \`publication.succeeded\` with \`type: 'delete'\`; your listings on Immoflow are not touched. Connect again to publish there again. ${PUBLICATION_EVENTS}`,
    tags,
    request: { params: targetId },
    responses: {
      200: {
        description: 'The target, its connection disconnected',
        content: dataOf(targetDtoSchema, { ...targetExample, connection: { ...targetExample.connection, state: 'disconnected', disconnected_at: '2026-03-04T08:00:00.000Z' } }),
      },
      ...errors(401, 403, 429, 503),
      404: errorResponse('NOT_FOUND: no enabled target with this id, or this organisation is not connected to it', 'NOT_FOUND'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/partner-hooks/{targetId}',
    operationId: 'deliverAgencyKey',
    summary: "Deliver an agency's key (portals)",
    description: `Reference 001 step 4, called by the portal, not by API clients: no API key. After the agency confirmed the link from \`POST /api/v1/targets/{id}/connect\`, the portal POSTs \`{ "x-api-key", "agencyId" }\` (agencyId is the organisation id Immoflow sent to /crm/integrate). The credential is the signature over the raw body, with the target's webhook secret: \`X-Webhook-Signature: sha256=<hex HMAC-SHA256(key = the whsec_… secret, data = raw body)>\`, or the Standard Webhooks headers (\`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`). The key is stored encrypted, the connection becomes \`connected\`, \`target.connected\` is emitted and the organisation's published listings are pushed. Redelivering the same key is answered 200 and changes nothing.`,
    tags,
    security: [],
    request: {
      params: z.object({ targetId: uuidParam(exampleIds.TARGET_ID, 'The target id') }),
      headers: signatureHeaders({ optional: true }),
      body: { required: true, content: json(agencyKeyDeliverySchema.meta({ id: 'AgencyKeyDelivery' }), agencyKeyDeliveryExample) },
    },
    responses: {
      200: { description: 'Received', content: dataOf(z.object({ received: z.literal(true) }), { received: true }) },
      400: errorResponse('VALIDATION_ERROR: the body is not JSON or not { "x-api-key", "agencyId" }', 'VALIDATION_ERROR'),
      401: errorResponse("UNAUTHENTICATED: the delivery is not signed with this target's webhook secret", 'UNAUTHENTICATED'),
      404: errorResponse('NOT_FOUND: no enabled target with this id, or no connection of this agency is waiting for a key from this portal', 'NOT_FOUND'),
      413: errorResponse('PAYLOAD_TOO_LARGE: a key delivery is at most 16 kB', 'PAYLOAD_TOO_LARGE'),
      503: errorResponse('A dependency is down (DATABASE_UNAVAILABLE, …); retry', 'DATABASE_UNAVAILABLE'),
    },
  });
}
