import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { FEATURE_FLAGS } from '../../domain/featureFlags';
import { apiKeyExample, meExample } from '../examples';
import { dataOf, errors, json } from '../shared';

const keyKind = z.enum(['secret', 'publishable']);
const keyMode = z.enum(['live', 'test']);

/** GET /me as src/identity/routes.ts builds it. */
export const meSchema = z
  .object({
    organization: z.object({
      id: z.uuid(),
      name: z.string(),
      plan: z.enum(['free', 'pro', 'enterprise']),
      active_listing_cap: z.number().int().nullable().meta({ description: 'null: no cap' }),
      feature_flags: z.partialRecord(z.enum(FEATURE_FLAGS), z.boolean()),
    }),
    api_key: z.object({
      id: z.uuid(),
      kind: keyKind,
      mode: keyMode,
      scopes: z.array(z.string()).meta({ description: 'The scopes granted, as given (minimal: listings:delete implies read and write).' }),
      effective_scopes: z.array(z.string()).meta({ description: 'Every scope the key may use, with the implied ones spelled out.' }),
    }),
    inbox: z
      .object({ id: z.uuid(), address: z.string(), created_at: z.iso.datetime() })
      .nullable()
      .meta({ description: 'Where portals send contact requests; null for publishable keys.' }),
  })
  .meta({ id: 'Me' });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    kind: keyKind,
    mode: keyMode,
    name: z.string().nullable(),
    hint: z.string().meta({ description: 'The key itself is shown once, at creation; this is enough to recognise it.' }),
    scopes: z.array(z.string()),
    created_by: z.uuid().nullable(),
    created_at: z.iso.datetime(),
    last_used_at: z.iso.datetime().nullable(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });

export function registerIdentityPaths(registry: OpenAPIRegistry): void {
  const tags = ['Identity'];
  registry.registerPath({
    method: 'get',
    path: '/api/v1/me',
    operationId: 'getMe',
    summary: 'Who am I',
    description: 'The organization, mode and scopes of the calling key, and (secret keys only) the inbox address for contact requests. A cheap way to check a key.',
    tags,
    responses: { 200: { description: 'Key context', content: dataOf(meSchema, meExample) }, ...errors(401, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/api-keys',
    operationId: 'listApiKeys',
    summary: "List the organization's API keys",
    description: 'Needs a secret key with `api_keys:read`. Never returns a key or its hash.',
    tags,
    responses: { 200: { description: 'The keys', content: json(z.object({ data: z.array(apiKeySchema) }), { data: [apiKeyExample] }) }, ...errors(401, 403, 429, 503) },
  });
}
