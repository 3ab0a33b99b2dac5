import type { OpenAPIRegistry, ResponseConfig, ZodContentObject } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorExamples } from './examples';

/** The error envelope of src/http/errors.ts, shared by every error response. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable, machine-readable; branch on this, not on the message.', example: 'VALIDATION_ERROR' }),
      message: z.string().meta({ description: 'For people; may change.' }),
      details: z
        .record(z.string(), z.unknown())
        .optional()
        .meta({ description: 'For VALIDATION_ERROR: { fields: [{ path, message }] }, one entry per bad field; for RATE_LIMITED: { limit, reset_seconds }.' }),
      request_id: z.string().meta({ description: 'Also sent as X-Request-Id; quote it when reporting a problem.' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every 4xx and 5xx answer has this shape.' });

export type ErrorCodeExample = keyof typeof errorExamples;

/** Registers the error examples once, so each response refers to them instead of repeating them. */
export function registerErrorExamples(registry: OpenAPIRegistry): void {
  for (const [code, value] of Object.entries(errorExamples)) {
    registry.registerComponent('examples', code, { summary: code, value });
  }
}

const exampleRef = (code: ErrorCodeExample) => ({ [code]: { $ref: `#/components/examples/${code}` } });

const retryAfter = { 'Retry-After': { description: 'Seconds until the limit resets.', schema: { type: 'string' as const } } };

const STATUS: Record<number, { description: string; example: ErrorCodeExample; headers?: typeof retryAfter }> = {
  400: { description: 'VALIDATION_ERROR (details.fields lists every bad field)', example: 'VALIDATION_ERROR' },
  401: { description: 'UNAUTHENTICATED: missing, unknown or revoked key', example: 'UNAUTHENTICATED' },
  403: { description: 'INSUFFICIENT_SCOPE (pk_ key or missing scope) or FORBIDDEN (plan limit, owner_email)', example: 'INSUFFICIENT_SCOPE' },
  404: { description: 'NOT_FOUND: flag off, or the resource belongs to another organization', example: 'NOT_FOUND' },
  409: { description: 'IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE, INVALID_STATUS_TRANSITION or WEBHOOK_INACTIVE', example: 'IDEMPOTENCY_KEY_REUSED' },
  413: { description: 'PAYLOAD_TOO_LARGE', example: 'PAYLOAD_TOO_LARGE' },
  429: { description: 'RATE_LIMITED (see Retry-After)', example: 'RATE_LIMITED', headers: retryAfter },
  503: { description: 'A dependency is down (DATABASE_UNAVAILABLE, TEMPORAL_UNAVAILABLE, STORAGE_UNAVAILABLE); retry', example: 'DATABASE_UNAVAILABLE' },
};

/** One error response with its own description, where the generic one of errors() would mislead. */
export function errorResponse(description: string, example: ErrorCodeExample, headers?: ResponseConfig['headers']): ResponseConfig {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: errorSchema, examples: exampleRef(example) } },
  };
}

/** The usual error responses of a route, by status. */
export function errors(...statuses: number[]): Record<string, ResponseConfig> {
  return Object.fromEntries(
    statuses.map((status) => {
      const known = STATUS[status];
      if (!known) throw new Error(`no generic error response for ${status}`);
      return [status, errorResponse(known.description, known.example, known.headers)];
    }),
  );
}

/** A JSON body with its example. */
export const json = (schema: z.ZodType, example: unknown): ZodContentObject => ({ 'application/json': { schema, example } });

/** The `{ data }` envelope of src/http/envelope.ts around one resource. */
export const dataOf = (schema: z.ZodType, example: unknown): ZodContentObject => json(z.object({ data: schema }), { data: example });

export const cursorPaginationSchema = z
  .object({
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last one.' }),
    has_more: z.boolean(),
    limit: z.number().int(),
  })
  .meta({ id: 'CursorPagination' });

/** A `{ data: [...], pagination }` page with one example item. */
export const pageOf = (schema: z.ZodType, example: unknown): ZodContentObject =>
  json(z.object({ data: z.array(schema), pagination: cursorPaginationSchema }), { data: [example], pagination: { next_cursor: null, has_more: false, limit: 25 } });

export const idempotencyHeader = z.object({
  'Idempotency-Key': z
    .uuidv4()
    .optional()
    .meta({ description: 'UUID v4; kept 24 h. Same key + same body → stored response; other body → 409.', example: 'c0a8012e-7f3b-4d2a-9c5e-1b2d3e4f5a6b' }),
});

export const uuidParam = (example: string, description?: string) => z.uuid().meta({ example, ...(description ? { description } : {}) });

export interface OpenApiHelpers {
  errors: typeof errors;
  errorResponse: typeof errorResponse;
  json: typeof json;
  dataOf: typeof dataOf;
  pageOf: typeof pageOf;
  uuidParam: typeof uuidParam;
}

/** Handed to feature files outside src/openapi (src/requests/openapi.ts) so they need not import it. */
export const helpers: OpenApiHelpers = { errors, errorResponse, json, dataOf, pageOf, uuidParam };

/**
 * The signature headers of src/webhooks/signing.ts. The partner hook accepts either scheme, so
 * there each header is optional; a delivery always carries all of them.
 */
export function signatureHeaders(options: { optional: boolean }) {
  const header = (description: string, example: string) => {
    const schema = z.string().meta({ description, example });
    return options.optional ? schema.optional() : schema;
  };
  return z.object({
    'X-Webhook-Signature': header(
      'sha256=<hex HMAC-SHA256 of the raw body>, keyed with the whole whsec_… secret string as UTF-8 (reference 002). Signed with the current secret only.',
      'sha256=5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592',
    ),
    'webhook-id': header('Standard Webhooks message id.', 'msg_2b3c4d5e6f7a4b8c9d0e1f2a3b4c5d6e'),
    'webhook-timestamp': header('Standard Webhooks: unix seconds of this attempt; reject old ones (the libraries allow 5 minutes).', '1772442904'),
    'webhook-signature': header(
      'Standard Webhooks: space-separated `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the base64-decoded part after whsec_; one entry per valid secret during a rotation.',
      'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    ),
  });
}
