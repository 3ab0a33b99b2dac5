import { z } from 'zod';
import { AGENCY_ID_MAX_LENGTH } from '../domain/partners';

/** POST /crm/integrate (reference 001, step 2). */
export const integrateSchema = z
  .object({
    agencyId: z
      .string({ error: 'is required: your CRM’s own id for this agency' })
      .trim()
      .min(1, 'must not be empty')
      .max(AGENCY_ID_MAX_LENGTH, `must be at most ${AGENCY_ID_MAX_LENGTH} characters`),
  })
  .strict();

export const oauthResponseSchema = z.object({
  'x-crm-token': z.string().meta({ example: 'crmt_2Yb…' }),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().meta({ example: 21600 }),
  expires_at: z.iso.datetime(),
});

export const integrateResponseSchema = z.object({
  url: z.url().meta({ example: 'https://api.immoflow.example/connect/0b5e…' }),
  expires_at: z.iso.datetime(),
});

export const connectionDtoSchema = z
  .object({
    id: z.uuid(),
    partner: z.object({ id: z.uuid(), name: z.string() }),
    agency_id: z.string(),
    status: z.enum(['delivering', 'delivered', 'delivery_failed', 'revoked']),
    api_key_id: z.uuid().nullable(),
    delivery_attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_by: z.uuid().nullable(),
    created_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'PartnerConnection' });
