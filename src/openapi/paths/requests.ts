import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { inboundMailQuerySchema, listRequestsQuerySchema } from '../../requests/schema';
import { contactRequestExample, erasedContactRequestExample, exampleIds, inboxExample } from '../examples';
import { dataOf, errors, pageOf, uuidParam } from '../shared';

const nullableText = () => z.string().nullable();

/** The request DTO (src/requests/dto.ts) as the document shows it. */
export const contactRequestDtoSchema = z
  .object({
    id: z.uuid(),
    listing_id: z.uuid().nullable().meta({ description: 'The listing whose external_ref is the XML\'s oobj_id; null when no listing has it' }),
    external_ref: nullableText().meta({ description: 'oobj_id from the OpenImmo-Feedback XML', example: 'IMMO-4711' }),
    portal: nullableText().meta({ example: 'ImmobilienScout24' }),
    portal_object_id: nullableText(),
    inbox_id: z.uuid(),
    prospect: z.object({
      salutation: nullableText(),
      first_name: nullableText(),
      last_name: nullableText(),
      company: nullableText(),
      email: nullableText(),
      phone: nullableText(),
      address: z.object({ street: nullableText(), postal_code: nullableText(), city: nullableText(), country: nullableText() }),
    }),
    message: nullableText(),
    requested_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    erased_at: z.iso.datetime().nullable().meta({ description: 'Set once erased: every personal field is then null' }),
  })
  .meta({ id: 'ContactRequest' });

/** A short OpenImmo-Feedback mail; the XML attachment is elided. */
const INBOUND_MAIL_EXAMPLE = [
  'From: noreply@portal.example',
  'To: makler-west.k7q2m9x4p1@in.immoflow.example',
  'Subject: Neue Anfrage zu Ihrem Objekt CRM-48217',
  'Message-ID: <a1b2c3@portal.example>',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: application/xml; name="feedback.xml"',
  '',
  '<openimmo_feedback>…</openimmo_feedback>',
  '--b1--',
  '',
].join('\r\n');

const inboxSchema = z.object({ id: z.uuid(), address: z.string(), created_at: z.iso.datetime() }).meta({ id: 'Inbox' });

/** The requests routes of the OpenAPI document (src/openapi/document.ts calls this); the DTO is src/requests/dto.ts toRequestDto. */
export function registerRequestPaths(registry: OpenAPIRegistry) {
  const requestId = z.object({ id: uuidParam(exampleIds.REQUEST_ID, 'The contact request id') });
  const tags = ['Contact requests'];
  registry.registerPath({
    method: 'get',
    path: '/api/v1/requests',
    operationId: 'listContactRequests',
    summary: 'List contact requests',
    description: 'Oldest first (needs `requests:read`). Enquiries that portals sent by e-mail to your inbox (GET /api/v1/me shows its address), parsed from their OpenImmo-Feedback XML. Filter by `listing_id`, `since` (created at or after) and `email` (the prospect\'s, case-insensitive).',
    tags,
    request: { query: listRequestsQuerySchema },
    responses: {
      200: { description: 'A page of requests', content: pageOf(contactRequestDtoSchema, contactRequestExample) },
      ...errors(400, 401, 403, 429, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/requests/{id}',
    operationId: 'getContactRequest',
    summary: 'Get a contact request',
    description: 'As `request.created` carries it (needs `requests:read`).',
    tags,
    request: { params: requestId },
    responses: { 200: { description: 'The request', content: dataOf(contactRequestDtoSchema, contactRequestExample) }, ...errors(401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/requests/{id}',
    operationId: 'eraseContactRequest',
    summary: 'Erase a contact request (GDPR)',
    description: "Erases a request's personal data and its raw mail (GDPR Art. 17), keeping a tombstone (needs `requests:delete`). Every prospect field and the message become null, the raw e-mail (and any duplicate of it) is deleted from storage, and the copy in the event log and in pending webhook deliveries is replaced by the tombstone. Erasing again changes nothing.",
    tags,
    request: { params: requestId },
    responses: { 200: { description: 'The tombstone', content: dataOf(contactRequestDtoSchema, erasedContactRequestExample) }, ...errors(401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/inbound/mail',
    operationId: 'postInboundMail',
    summary: 'Post a raw e-mail',
    description: 'For mail providers that deliver inbound mail by webhook (needs `requests:write`). The HTTP alternative to SMTP. The mail is for the inbox named by `recipient`, else by its X-Original-To, Delivered-To or To header, else your current inbox. 202 means it is stored and will be processed once per Message-ID: `request.created` or `request.parsing_failed` follows. A mail addressed to an inbox of ours that is not yours is answered `status: refused` and reported as `request.parsing_failed` with `unknown_organisation`.',
    tags,
    request: {
      query: inboundMailQuerySchema,
      body: { required: true, content: { 'message/rfc822': { schema: z.string().meta({ format: 'binary' }), example: INBOUND_MAIL_EXAMPLE } } },
    },
    responses: {
      202: {
        description: 'Stored (or a duplicate Message-ID, or refused)',
        content: dataOf(z.object({ mail_id: z.uuid().nullable(), status: z.enum(['accepted', 'duplicate', 'refused']) }), { mail_id: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b', status: 'accepted' }),
      },
      ...errors(400, 401, 403, 413, 429, 503),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/inbox/rotate',
    operationId: 'rotateInbox',
    summary: 'Rotate the inbox address',
    description: 'A new inbox address; the old one refuses mail from now on (needs `requests:write`).',
    tags,
    responses: { 201: { description: 'The new inbox', content: dataOf(inboxSchema, inboxExample) }, ...errors(401, 403, 429, 503) },
  });
}
