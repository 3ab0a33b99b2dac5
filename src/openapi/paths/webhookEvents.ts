import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ATTACHMENT_FAILURE_CODES } from '../../domain/attachments';
import { EVENT_NAMES, EventName } from '../../domain/events';
import { LISTING_STATUSES } from '../../domain/listingLifecycle';
import type { RequestFailureCode } from '../../domain/openimmoFeedback';
import { PUBLICATION_FAILURE_CODES } from '../../domain/publications';
import { listingPublicDtoSchema } from '../../listings/dto';
import { contactRequestExample, eventExample, eventPayloadExamples, exampleIds, reservedEventPayloadExample } from '../examples';
import { json, signatureHeaders } from '../shared';
import { contactRequestDtoSchema } from './requests';

const deliveryHeaders = signatureHeaders({ optional: false }).extend({
  'X-Webhook-ID': z.uuid().meta({ description: 'The eventId, the same on every retry: de-duplicate on it.', example: exampleIds.EVENT_ID }),
  'X-Event-Type': z.string().meta({ description: 'The eventName.', example: 'listing.published' }),
});

const listingRef = { listingId: z.uuid(), externalRef: z.string().meta({ description: "Your CRM's external_ref" }) };
/** listing.* and property.* carry the listing as GET /api/v1/listings/{id} returns it (src/listings/dto.ts listingEventPayload). */
const listingEvent = listingPublicDtoSchema.extend(listingRef);
const LISTING_PAYLOAD = 'The payload is the listing as GET /api/v1/listings/{id} returns it, plus `listingId` and `externalRef`.';
const publication = z.object({
  listingId: z.uuid(),
  propertyId: z.string().nullable().meta({ description: "The listing's external_ref" }),
  targetId: z.uuid(),
  type: z.enum(['set', 'delete']).meta({ description: 'set: pushed (created or updated there); delete: taken down there.' }),
  failureCode: z.enum(PUBLICATION_FAILURE_CODES).nullable(),
  failureMessage: z.string().nullable(),
  fields: z.array(z.object({ path: z.string(), message: z.string() })).optional().meta({ description: "The target's field errors, on validation_failed." }),
});
const target = z.object({ targetId: z.uuid(), targetName: z.string() });
const REQUEST_FAILURE_CODES = ['no_xml_attachment', 'invalid_xml', 'unsupported_schema', 'unknown_organisation', 'too_large'] as const satisfies readonly RequestFailureCode[];

interface EventDoc {
  summary: string;
  description: string;
  payload: z.ZodType;
  example: object;
}

const RESERVED_DESCRIPTION = 'Reserved: subscribable today, not emitted yet. The payload is a JSON object whose shape will be documented when the feature ships; ignore fields you do not know.';
const reserved = (summary: string): EventDoc => ({ summary, description: RESERVED_DESCRIPTION, payload: z.record(z.string(), z.unknown()), example: reservedEventPayloadExample });

/** Every event name, with the payload the code that appends it builds; a new name fails the type check until documented. */
const EVENTS: Record<EventName, EventDoc> = {
  'listing.created': {
    summary: 'A listing was created',
    description: 'Emitted by POST /api/v1/listings when the external_ref is new, in the transaction that creates the listing.',
    payload: listingEvent,
    example: eventPayloadExamples['listing.created'],
  },
  'listing.updated': {
    summary: 'A listing was changed',
    description: `Emitted by an upsert of an existing external_ref or a PATCH that changed something. \`status\` is what your CRM asked for; whether it is live follows in \`listing.published\` / \`listing.moderated\`. ${LISTING_PAYLOAD} \`changed_fields\` names the fields that changed and \`previous_attributes\` holds their values before (the Stripe convention); \`changedFields\` and \`previousStatus\` are kept for subscribers written before.`,
    payload: listingEvent.extend({
      previousStatus: z.enum(LISTING_STATUSES),
      changedFields: z.array(z.string()),
      changed_fields: z.array(z.string()),
      previous_attributes: z.record(z.string(), z.unknown()),
    }),
    example: eventPayloadExamples['listing.updated'],
  },
  'listing.published': {
    summary: 'A listing went live',
    description: 'Emitted once when the publish pipeline first approves an active listing (moderation approved); every connected target is then synced.',
    payload: listingEvent,
    example: eventPayloadExamples['listing.published'],
  },
  'listing.deleted': {
    summary: 'A listing was deleted',
    description: 'Emitted by DELETE /api/v1/listings/{id}; the listing is then taken down on every target.',
    payload: listingEvent,
    example: eventPayloadExamples['listing.deleted'],
  },
  'listing.moderated': {
    summary: 'Moderation decided on a listing revision',
    description: '`outcome` approved, rejected or needs_review; `reasons` say why a listing was rejected or held for review.',
    payload: listingEvent.extend({
      outcome: z.enum(['approved', 'rejected', 'needs_review']),
      reasons: z.array(z.object({ code: z.string(), field: z.string().optional(), message: z.string(), severity: z.enum(['reject', 'review']) })),
    }),
    example: eventPayloadExamples['listing.moderated'],
  },
  'listing.image.uploaded': {
    summary: 'An image is ready',
    description: 'Emitted when an uploaded image has been processed, with its variant URLs.',
    payload: z.object({
      ...listingRef,
      imageId: z.string(),
      image: z.object({
        id: z.string(),
        sortOrder: z.number().int(),
        width: z.number().int(),
        height: z.number().int(),
        variants: z.array(z.object({ name: z.enum(['thumbnail', 'large']), url: z.url(), width: z.number().int(), height: z.number().int() })),
      }),
    }),
    example: eventPayloadExamples['listing.image.uploaded'],
  },
  'listing.image.deleted': {
    summary: 'An image was deleted',
    description: 'Emitted by DELETE /api/v1/listings/{id}/images.',
    payload: z.object({ ...listingRef, imageId: z.string() }),
    example: eventPayloadExamples['listing.image.deleted'],
  },
  'property.processing_succeeded': {
    summary: "Every URL attachment of a listing's revision is fetched",
    description: `Emitted by the propertyProcessing workflow when every attachment of the revision is ready (docs/ATTACHMENTS.md). ${LISTING_PAYLOAD}`,
    payload: listingEvent,
    example: eventPayloadExamples['property.processing_succeeded'],
  },
  'property.processing_failed': {
    summary: 'An attachment of a listing could not be fetched',
    description: `Emitted when every attachment is settled and at least one failed; \`failureCode\` and \`failureMessage\` are the first failure's, and each attachment carries its own \`failure_code\`. ${LISTING_PAYLOAD}`,
    payload: listingEvent.extend({ failureCode: z.enum(ATTACHMENT_FAILURE_CODES), failureMessage: z.string() }),
    example: eventPayloadExamples['property.processing_failed'],
  },
  'publication.succeeded': {
    summary: 'A listing was pushed to or removed from a target',
    description: '`type: set` when the target holds the listing, `type: delete` when it was taken down there.',
    payload: publication,
    example: eventPayloadExamples['publication.succeeded'],
  },
  'publication.failed': {
    summary: 'A push to a target failed',
    description: 'Emitted when a listing starts failing on a target or fails differently, not on every retry of an outage.',
    payload: publication,
    example: eventPayloadExamples['publication.failed'],
  },
  'target.connected': {
    summary: 'A publication target was connected',
    description: 'The portal delivered the agency key; published listings are pushed there from now on.',
    payload: target,
    example: eventPayloadExamples['target.connected'],
  },
  'target.disconnected': {
    summary: 'A publication target was disconnected',
    description: 'Emitted by DELETE /api/v1/targets/{id}/connection; the listings there are deleted in the background.',
    payload: target,
    example: eventPayloadExamples['target.disconnected'],
  },
  'request.created': {
    summary: 'A contact request arrived',
    description: 'A portal mailed an enquiry to your inbox and its OpenImmo-Feedback XML was parsed. The payload is the request as GET /api/v1/requests/{id} returns it.',
    payload: contactRequestDtoSchema,
    example: contactRequestExample,
  },
  'request.parsing_failed': {
    summary: 'A mail to your inbox could not be read',
    description: '`targetId` is the inbox id. The mail is summarised (sender, recipient, subject, a body excerpt) so you can follow it up by hand.',
    payload: z.object({
      targetId: z.uuid().meta({ description: 'The inbox id' }),
      createdAt: z.iso.datetime(),
      failureCode: z.enum(REQUEST_FAILURE_CODES),
      failureMessage: z.string(),
      sender: z.string().nullable(),
      recipient: z.string(),
      subject: z.string().nullable(),
      body: z.string().meta({ description: 'The text part, cut short.' }),
    }),
    example: eventPayloadExamples['request.parsing_failed'],
  },
  'application.status_changed': reserved('Reserved: an application changed status'),
  'appointment.booked': reserved('Reserved: an appointment was booked'),
};

const pascal = (name: string) => name.split(/[._]/).map((part) => part[0].toUpperCase() + part.slice(1)).join('');

/** The envelope of one event name with its payload, as the delivery body and the event log carry it. */
export function eventEnvelopeSchema(name: EventName) {
  return z
    .object({ eventId: z.uuid(), eventName: z.literal(name), eventPayload: EVENTS[name].payload, eventTime: z.iso.datetime() })
    .meta({ id: `${pascal(name)}Event`, description: EVENTS[name].summary });
}

export function eventPayloadSchema(name: EventName): z.ZodType {
  return EVENTS[name].payload;
}

/**
 * OpenAPI 3.1 `webhooks`: one entry per event name, POSTed to your subscription URL. Returns the
 * envelope schemas: zod-to-openapi 8.5 builds components before it walks the webhooks, so a
 * schema that only a webhook uses must be handed to the generator as a definition of its own.
 */
export function registerWebhookEvents(registry: OpenAPIRegistry): z.ZodType[] {
  const envelopes: z.ZodType[] = [];
  for (const name of EVENT_NAMES) {
    const doc = EVENTS[name];
    const envelope = eventEnvelopeSchema(name);
    envelopes.push(envelope);
    registry.registerWebhook({
      method: 'post',
      path: name,
      operationId: `on${pascal(name)}`,
      summary: doc.summary,
      description: `${doc.description}\n\nPOSTed to every active subscription whose \`events\` match \`${name}\`, signed twice (see the headers). Answer 2xx within 10 s; anything else is retried for about 48 h.`,
      tags: ['Webhook events'],
      security: [],
      request: { headers: deliveryHeaders, body: { required: true, content: json(envelope, eventExample(name, doc.example)) } },
      responses: {
        200: { description: 'Any 2xx acknowledges the delivery.' },
        410: { description: 'Gone: disables the subscription at once.' },
      },
    });
  }
  return envelopes;
}
