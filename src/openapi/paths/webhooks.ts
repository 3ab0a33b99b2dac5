import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { createWebhookSchema, listDeliveriesQuerySchema, patchWebhookSchema } from '../../webhooks/schema';
import {
  createWebhookExample,
  deliveryDetailExample,
  deliverySummaryExample,
  exampleIds,
  patchWebhookExample,
  webhookExample,
  webhookSecretExample,
} from '../examples';
import { dataOf, errors, json, pageOf, uuidParam } from '../shared';

/** The subscription as src/webhooks/dto.ts toWebhookDto writes it: never the secret. */
export const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()).meta({ description: 'Event names or wildcards (`*`, `listing.*`, …).' }),
    description: z.string().nullable(),
    active: z.boolean(),
    disabled_reason: z.string().nullable().meta({ description: 'Why it was disabled: a 410 Gone, or too many exhausted deliveries.' }),
    consecutive_failures: z.number().int(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });

const withSecret = webhookSchema.extend({ secret: z.string().meta({ description: 'whsec_…, shown only here: store it to verify signatures.' }) });

export const deliverySummarySchema = z
  .object({
    id: z.uuid(),
    webhook_id: z.uuid(),
    event_id: z.uuid(),
    event_name: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempt_count: z.number().int(),
    last_status_code: z.number().int().nullable(),
    next_attempt_at: z.iso.datetime().nullable().meta({ description: 'Set while retrying.' }),
    redelivery_of: z.uuid().nullable(),
    created_at: z.iso.datetime(),
    completed_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDeliverySummary' });

export const deliveryDetailSchema = deliverySummarySchema
  .extend({
    payload: z.record(z.string(), z.unknown()).meta({ description: 'The envelope that was (or will be) POSTed.' }),
    attempts: z.array(
      z.object({
        attempt_number: z.number().int(),
        status_code: z.number().int().nullable(),
        duration_ms: z.number().int(),
        error: z.string().nullable(),
        response_body: z.string().nullable().meta({ description: 'Truncated.' }),
        attempted_at: z.iso.datetime(),
      }),
    ),
  })
  .meta({ id: 'WebhookDelivery' });

const webhookId = z.object({ id: uuidParam(exampleIds.WEBHOOK_ID, 'The webhook subscription id') });
const deliveryIds = webhookId.extend({ delivery_id: uuidParam(exampleIds.DELIVERY_ID, 'The delivery id') });

interface WebhookRoute {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; example: unknown };
  status: number;
  response: ResponseConfig['content'];
}

export function registerWebhookPaths(registry: OpenAPIRegistry): void {
  const routes: WebhookRoute[] = [
    {
      method: 'post',
      path: '/api/v1/webhooks',
      operationId: 'createWebhook',
      summary: 'Create a webhook subscription',
      description: 'The response carries the signing secret, once. `events` takes names from the `webhooks` section or wildcards.',
      body: { schema: createWebhookSchema, example: createWebhookExample },
      status: 201,
      response: dataOf(withSecret, { ...webhookExample, secret: webhookSecretExample }),
    },
    { method: 'get', path: '/api/v1/webhooks', operationId: 'listWebhooks', summary: 'List webhook subscriptions', description: 'Never the secret.', status: 200, response: pageOf(webhookSchema, webhookExample) },
    { method: 'get', path: '/api/v1/webhooks/{id}', operationId: 'getWebhook', summary: 'Get a webhook subscription', params: webhookId, status: 200, response: dataOf(webhookSchema, webhookExample) },
    {
      method: 'patch',
      path: '/api/v1/webhooks/{id}',
      operationId: 'updateWebhook',
      summary: 'Update a webhook subscription',
      description: '`{"active": true}` re-enables a disabled subscription and resets its failure count.',
      params: webhookId,
      body: { schema: patchWebhookSchema, example: patchWebhookExample },
      status: 200,
      response: dataOf(webhookSchema, webhookExample),
    },
    {
      method: 'delete',
      path: '/api/v1/webhooks/{id}',
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook subscription',
      description: 'Needs `webhooks:delete`.',
      params: webhookId,
      status: 200,
      response: dataOf(z.object({ id: z.uuid(), deleted: z.literal(true) }), { id: exampleIds.WEBHOOK_ID, deleted: true }),
    },
    {
      method: 'post',
      path: '/api/v1/webhooks/{id}/rotate-secret',
      operationId: 'rotateWebhookSecret',
      summary: 'Rotate the signing secret',
      description: 'The new secret is shown once; the old one keeps signing (a second signature) until `previous_secret_expires_at`.',
      params: webhookId,
      status: 200,
      response: dataOf(withSecret.extend({ previous_secret_expires_at: z.iso.datetime().nullable() }), {
        ...webhookExample,
        secret: webhookSecretExample,
        previous_secret_expires_at: '2026-03-03T09:15:00.000Z',
      }),
    },
    {
      method: 'get',
      path: '/api/v1/webhooks/{id}/deliveries',
      operationId: 'listWebhookDeliveries',
      summary: 'List deliveries',
      description: 'Offset pagination; no payloads or response bodies (they may hold third-party data).',
      params: webhookId,
      query: listDeliveriesQuerySchema,
      status: 200,
      response: json(
        z.object({
          data: z.array(deliverySummarySchema),
          pagination: z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int(), total_pages: z.number().int() }),
        }),
        { data: [deliverySummaryExample], pagination: { page: 1, per_page: 50, total: 1, total_pages: 1 } },
      ),
    },
    {
      method: 'get',
      path: '/api/v1/webhooks/{id}/deliveries/{delivery_id}',
      operationId: 'getWebhookDelivery',
      summary: 'Get a delivery with every attempt',
      params: deliveryIds,
      status: 200,
      response: dataOf(deliveryDetailSchema, deliveryDetailExample),
    },
    {
      method: 'post',
      path: '/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver',
      operationId: 'redeliverWebhookDelivery',
      summary: 'Redeliver a delivery',
      description: 'Sends the same envelope again as a new delivery; 409 WEBHOOK_INACTIVE while the subscription is disabled.',
      params: deliveryIds,
      status: 202,
      response: json(z.object({ redelivery_id: z.uuid(), status: z.literal('pending') }), { redelivery_id: exampleIds.DELIVERY_ID, status: 'pending' }),
    },
    {
      method: 'post',
      path: '/api/v1/webhooks/{id}/test',
      operationId: 'sendTestWebhook',
      summary: 'Send a test event',
      description: 'A signed `webhook.test` envelope through the normal delivery path (signed, retried, logged).',
      params: webhookId,
      status: 202,
      response: json(z.object({ delivery_id: z.uuid(), status: z.literal('pending') }), { delivery_id: exampleIds.DELIVERY_ID, status: 'pending' }),
    },
  ];
  for (const route of routes) {
    registry.registerPath({
      method: route.method,
      path: route.path,
      operationId: route.operationId,
      summary: route.summary,
      description: `${route.description ? `${route.description} ` : ''}Needs a secret key and the flag WEBHOOKS_PUBLIC_API_ENABLED (off → 404).`,
      tags: ['Webhooks'],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body ? { body: { required: true, content: json(route.body.schema, route.body.example) } } : {}),
      },
      responses: { [route.status]: { description: 'OK', content: route.response }, ...errors(400, 401, 403, 404, 409, 429, 503) },
    });
  }
}
