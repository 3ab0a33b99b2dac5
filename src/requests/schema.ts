import { z } from 'zod';

/** GET /api/v1/requests query (also read by the OpenAPI document). */
export const listRequestsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(200).optional(),
    listing_id: z.uuid().optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    email: z.email().max(320).optional(),
  })
  .strict();

/** POST /api/v1/inbound/mail query: the envelope recipient, when the provider knows it. */
export const inboundMailQuerySchema = z
  .object({
    recipient: z.email().max(320).optional(),
  })
  .strict();
