import { z } from 'zod';
import { EVENT_NAMES } from '../domain/events';

/** GET /api/v1/events query (also read by the OpenAPI document). */
export const listEventsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(200).optional(),
    name: z.enum(EVENT_NAMES).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
