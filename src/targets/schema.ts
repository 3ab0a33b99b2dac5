import { z } from 'zod';

export const TARGET_CONNECTION_STATES = ['not_connected', 'pending', 'connected', 'disconnected'] as const;

export const targetConnectionDtoSchema = z
  .object({
    state: z.enum(TARGET_CONNECTION_STATES).meta({
      description: 'not_connected → pending (a connect link was issued; the agency has not confirmed on the portal yet) → connected (the portal delivered the agency key) → disconnected.',
    }),
    connect_url: z.string().nullable().meta({ description: 'The portal\'s signed link from the last connect, for the agency to open.' }),
    connect_url_expires_at: z.iso.datetime().nullable(),
    connected_at: z.iso.datetime().nullable(),
    disconnected_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'TargetConnection' });

export const targetDtoSchema = z
  .object({
    id: z.uuid(),
    name: z.string().meta({ example: 'Portal Berlin' }),
    connection: targetConnectionDtoSchema,
    publications: z
      .object({ published: z.number().int(), failed: z.number().int() })
      .meta({ description: 'How many of your listings this target holds, and how many failed their last push.' }),
  })
  .meta({ id: 'Target' });

export type TargetDto = z.infer<typeof targetDtoSchema>;

export const connectTargetResultSchema = z
  .object({
    target_id: z.uuid(),
    state: z.enum(TARGET_CONNECTION_STATES),
    url: z.string().meta({ description: 'Open this link (the portal\'s signed URL) to log in or register on the portal and confirm.' }),
    expires_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'TargetConnectLink' });

/** What a portal POSTs to /partner-hooks/{targetId} (reference 001 step 4). */
export const agencyKeyDeliverySchema = z.object({
  'x-api-key': z.string().min(1).max(500),
  agencyId: z.string().min(1).max(200),
});
