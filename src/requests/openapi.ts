import type { OpenAPIRegistry, ResponseConfig, ZodContentObject } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { inboundMailQuerySchema, listRequestsQuerySchema } from './schema';

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

const inboxSchema = z.object({ id: z.uuid(), address: z.string(), created_at: z.iso.datetime() }).meta({ id: 'Inbox' });

type ErrorsOf = (...statuses: number[]) => Record<string, ResponseConfig>;
type DataOf = (schema: z.ZodType) => ZodContentObject;

/** The requests routes of the OpenAPI document (src/openapi/document.ts passes its helpers). */
export function registerRequestPaths(registry: OpenAPIRegistry, helpers: { errors: ErrorsOf; dataOf: DataOf; cursorPagination: z.ZodType }) {
  const { errors, dataOf } = helpers;
  const requestId = z.object({ id: z.uuid() });
  const tags = ['Contact requests'];
  registry.registerPath({
    method: 'get',
    path: '/api/v1/requests',
    summary: 'Contact requests, oldest first (needs requests:read)',
    description: 'Enquiries that portals sent by e-mail to your inbox (GET /api/v1/me shows its address), parsed from their OpenImmo-Feedback XML. Filter by `listing_id`, `since` (created at or after) and `email` (the prospect\'s, case-insensitive).',
    tags,
    request: { query: listRequestsQuerySchema },
    responses: {
      200: { description: 'A page of requests', content: { 'application/json': { schema: z.object({ data: z.array(contactRequestDtoSchema), pagination: helpers.cursorPagination }) } } },
      ...errors(400, 401, 403, 429, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/requests/{id}',
    summary: 'One contact request, as request.created carries it (needs requests:read)',
    tags,
    request: { params: requestId },
    responses: { 200: { description: 'The request', content: dataOf(contactRequestDtoSchema) }, ...errors(401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/requests/{id}',
    summary: "Erase a request's personal data and its raw mail (GDPR Art. 17), keeping a tombstone (needs requests:delete)",
    description: 'Every prospect field and the message become null, the raw e-mail (and any duplicate of it) is deleted from storage, and the copy in the event log and in pending webhook deliveries is replaced by the tombstone. Erasing again changes nothing.',
    tags,
    request: { params: requestId },
    responses: { 200: { description: 'The tombstone', content: dataOf(contactRequestDtoSchema) }, ...errors(401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/inbound/mail',
    summary: 'Post a raw e-mail, for mail providers that deliver inbound mail by webhook (needs requests:write)',
    description: 'The HTTP alternative to SMTP. The mail is for the inbox named by `recipient`, else by its X-Original-To, Delivered-To or To header, else your current inbox. 202 means it is stored and will be processed once per Message-ID: `request.created` or `request.parsing_failed` follows. A mail addressed to an inbox of ours that is not yours is answered `status: refused` and reported as `request.parsing_failed` with `unknown_organisation`.',
    tags,
    request: {
      query: inboundMailQuerySchema,
      body: { required: true, content: { 'message/rfc822': { schema: z.string().meta({ format: 'binary' }) } } },
    },
    responses: {
      202: { description: 'Stored (or a duplicate Message-ID, or refused)', content: dataOf(z.object({ mail_id: z.uuid().nullable(), status: z.enum(['accepted', 'duplicate', 'refused']) })) },
      ...errors(400, 401, 403, 413, 429, 503),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/inbox/rotate',
    summary: 'A new inbox address; the old one refuses mail from now on (needs requests:write)',
    tags,
    responses: { 201: { description: 'The new inbox', content: dataOf(inboxSchema) }, ...errors(401, 403, 429, 503) },
  });
}
