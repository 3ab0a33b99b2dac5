import { z } from 'zod';

const events = z.array(z.string().trim().min(1).max(100)).min(1).max(50);

export const createWebhookSchema = z
  .object({
    url: z.string().trim().max(2048),
    events,
    description: z.string().max(500).optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'CreateWebhookRequest' });

export const patchWebhookSchema = z
  .object({
    url: z.string().trim().max(2048).optional(),
    events: events.optional(),
    description: z.string().max(500).nullable().optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'PatchWebhookRequest' });

export const listDeliveriesQuerySchema = z
  .object({
    status: z.enum(['pending', 'succeeded', 'failed']).optional(),
    page: z.coerce.number().int().min(1).default(1),
    per_page: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;
export type PatchWebhookInput = z.infer<typeof patchWebhookSchema>;
