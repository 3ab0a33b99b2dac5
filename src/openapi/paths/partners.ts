import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { connectionDtoSchema, integrateResponseSchema, integrateSchema, oauthResponseSchema } from '../../partners/schema';
import { connectionExample, exampleIds, integrateExample, integrateResponseExample, oauthResponseExample } from '../examples';
import { dataOf, errors, json, pageOf, uuidParam } from '../shared';

/** partners/schema.ts's own example URL ends in an ellipsis, which is no valid URI; the document shows a whole one. */
const integrateResponse = integrateResponseSchema.extend({ url: integrateResponseSchema.shape.url.meta({ example: integrateResponseExample.url }) });

export function registerPartnerPaths(registry: OpenAPIRegistry): void {
  const tags = ['Partners'];
  registry.registerComponent('securitySchemes', 'CrmToken', { type: 'http', scheme: 'bearer', description: 'The x-crm-token from POST /crm/oauth (valid 6 h; cache it).' });
  registry.registerPath({
    method: 'post',
    path: '/crm/oauth',
    operationId: 'createCrmToken',
    summary: 'Get a CRM partner token',
    description: 'Reference 001 step 1: exchange client credentials for an x-crm-token (valid 6 h; at most 10 requests an hour). The token is also returned in the `x-crm-token` response header. See docs/PARTNERS.md.',
    tags,
    security: [],
    request: {
      headers: z.object({
        'x-crm-client-id': z.string().meta({ description: 'Your partner client id', example: 'crm_client_8f2a' }),
        'x-crm-client-secret': z.string().meta({ description: 'Your partner client secret', example: 'crm_secret_…' }),
      }),
    },
    responses: { 200: { description: 'A token', content: json(oauthResponseSchema, oauthResponseExample) }, ...errors(401, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/crm/integrate',
    operationId: 'createAgencyConnectLink',
    summary: 'Create an agency connect link',
    description: "Reference 001 step 2: a single-use signed connect link for one agency (your CRM's agencyId). A new link for the same agencyId supersedes the previous one. The link expires after 24 h.",
    tags,
    security: [{ CrmToken: [] }],
    request: { body: { required: true, content: json(integrateSchema, integrateExample) } },
    responses: { 201: { description: 'The link', content: json(integrateResponse, integrateResponseExample) }, ...errors(400, 401, 429, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/partners/connections',
    operationId: 'listPartnerConnections',
    summary: 'List partner connections',
    description: 'CRM partners this organisation has connected, with the state of each key delivery.',
    tags,
    responses: { 200: { description: 'The connections', content: pageOf(connectionDtoSchema, connectionExample) }, ...errors(401, 403, 429, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/partners/connections/{id}',
    operationId: 'revokePartnerConnection',
    summary: 'Revoke a partner connection',
    description: 'Revokes the connection and its agency key at once (needs `partners:delete`).',
    tags,
    request: { params: z.object({ id: uuidParam(exampleIds.CONNECTION_ID, 'The connection id') }) },
    responses: {
      200: { description: 'Revoked', content: dataOf(connectionDtoSchema, { ...connectionExample, status: 'revoked', revoked_at: '2026-03-04T08:00:00.000Z' }) },
      ...errors(401, 403, 404, 429, 503),
    },
  });
}
