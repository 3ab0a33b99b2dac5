import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { EVENT_NAMES } from '../../domain/events';
import { listEventsQuerySchema } from '../../events/schema';
import { eventExample, eventPayloadExamples } from '../examples';
import { errors, pageOf } from '../shared';

/** The envelope of the event log and of every webhook delivery (reference 003). */
export const eventSchema = z
  .object({
    eventId: z.uuid().meta({ description: 'Unique per event and the same on every retry of its delivery: de-duplicate on it.' }),
    eventName: z.enum(EVENT_NAMES),
    eventPayload: z.record(z.string(), z.unknown()).meta({ description: "The event's own payload; each event name's shape is under `webhooks`." }),
    eventTime: z.iso.datetime(),
  })
  .meta({ id: 'Event' });

export function registerEventPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/v1/events',
    operationId: 'listEvents',
    summary: 'List events',
    description: 'The event log, oldest first and resumable with `next_cursor`: the same envelopes that webhooks deliver, for clients that poll.',
    tags: ['Events'],
    request: { query: listEventsQuerySchema },
    responses: {
      200: { description: 'A page of events', content: pageOf(eventSchema, eventExample('listing.published', eventPayloadExamples['listing.published'])) },
      ...errors(400, 401, 403, 429, 503),
    },
  });
}
