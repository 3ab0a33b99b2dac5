import { z } from 'zod';
import { EVENT_NAMES } from '../../../src/domain/events';
import { listingImageDtoSchema, completeUploadSchema, createImageSchema, imageUploadTicketSchema, patchImageSchema } from '../../../src/images/schema';
import { listingPublicDtoSchema } from '../../../src/listings/dto';
import { patchListingSchema, upsertListingSchema } from '../../../src/listings/schema';
import { buildOpenApiDocument } from '../../../src/openapi/document';
import * as examples from '../../../src/openapi/examples';
import { apiKeySchema, meSchema } from '../../../src/openapi/paths/identity';
import { deliveryDetailSchema, deliverySummarySchema, webhookSchema } from '../../../src/openapi/paths/webhooks';
import { errorSchema } from '../../../src/openapi/shared';
import { eventEnvelopeSchema } from '../../../src/openapi/paths/webhookEvents';
import { connectionDtoSchema, integrateResponseSchema, integrateSchema, oauthResponseSchema } from '../../../src/partners/schema';
import { contactRequestDtoSchema } from '../../../src/openapi/paths/requests';
import { agencyKeyDeliverySchema, connectTargetResultSchema, targetDtoSchema } from '../../../src/targets/schema';
import { createWebhookSchema, patchWebhookSchema } from '../../../src/webhooks/schema';
import { completeListing } from '../../support/listings';

/** The reference's examples are held against the schemas that validate requests and shape answers. */
describe('request examples pass the validation the API applies', () => {
  it.each<[string, z.ZodType, unknown]>([
    ['upsertListing', upsertListingSchema, examples.upsertListingExample],
    ['updateListing', patchListingSchema, examples.patchListingExample],
    ['createImageUpload', createImageSchema, examples.createImageExample],
    ['completeImageUpload', completeUploadSchema, examples.completeUploadExample],
    ['updateImage', patchImageSchema, examples.patchImageExample],
    ['createWebhook', createWebhookSchema, examples.createWebhookExample],
    ['updateWebhook', patchWebhookSchema, examples.patchWebhookExample],
    ['createAgencyConnectLink', integrateSchema, examples.integrateExample],
    ['deliverAgencyKey', agencyKeyDeliverySchema, examples.agencyKeyDeliveryExample],
  ])('%s', (_name, schema, example) => {
    expect(() => schema.parse(example)).not.toThrow();
  });

  it('the listing example is the fixture the listing tests send (test/support/listings.ts)', () => {
    const { external_ref: _ref, house_number: _number, ...fixture } = completeListing();
    const { external_ref: _exampleRef, house_number: _exampleNumber, ...example } = examples.upsertListingExample;
    expect(example).toEqual(fixture);
    // The two fields the fixture randomises must still be valid values.
    expect(upsertListingSchema.parse(completeListing({ external_ref: examples.upsertListingExample.external_ref, house_number: examples.upsertListingExample.house_number }))).toEqual(
      upsertListingSchema.parse(examples.upsertListingExample),
    );
  });
});

describe('response examples have the shape of the DTOs', () => {
  it.each<[string, z.ZodType, unknown]>([
    ['listing', listingPublicDtoSchema, examples.listingExample],
    ['image', listingImageDtoSchema, examples.imageExample],
    ['processing image', listingImageDtoSchema, examples.imageProcessingExample],
    ['upload ticket', imageUploadTicketSchema, examples.imageTicketExample],
    ['webhook', webhookSchema, examples.webhookExample],
    ['delivery summary', deliverySummarySchema, examples.deliverySummaryExample],
    ['delivery detail', deliveryDetailSchema, examples.deliveryDetailExample],
    ['oauth', oauthResponseSchema, examples.oauthResponseExample],
    ['integrate', integrateResponseSchema, examples.integrateResponseExample],
    ['partner connection', connectionDtoSchema, examples.connectionExample],
    ['target', targetDtoSchema, examples.targetExample],
    ['connect link', connectTargetResultSchema, examples.connectTargetExample],
    ['contact request', contactRequestDtoSchema, examples.contactRequestExample],
    ['erased contact request', contactRequestDtoSchema, examples.erasedContactRequestExample],
    ['me', meSchema, examples.meExample],
    ['api key', apiKeySchema, examples.apiKeyExample],
    ...Object.entries(examples.errorExamples).map(([code, example]): [string, z.ZodType, unknown] => [`error ${code}`, errorSchema, example]),
  ])('%s', (_name, schema, example) => {
    // strict: an example field the DTO does not have is drift too.
    const strict = schema instanceof z.ZodObject ? schema.strict() : schema;
    expect(() => strict.parse(example)).not.toThrow();
  });

  it('the listing example answers the upsert example', () => {
    const { status: _status, ...sent } = examples.upsertListingExample;
    expect(examples.listingExample).toMatchObject({ ...sent, country: 'DE', marketing_type: 'rent' });
  });
});

describe('webhook events', () => {
  const document = buildOpenApiDocument('https://api.immoflow.test');

  it('documents one webhook per event name, with an example envelope that parses', () => {
    expect(Object.keys(document.webhooks ?? {}).sort()).toEqual([...EVENT_NAMES].sort());
    for (const name of EVENT_NAMES) {
      const body = (document.webhooks?.[name] as { post: { requestBody: { content: Record<string, { example: unknown }> } } }).post.requestBody;
      const example = body.content['application/json'].example;
      expect(() => eventEnvelopeSchema(name).parse(example)).not.toThrow();
    }
  });

  it('gives every event that is emitted today its own example payload', () => {
    const reserved = ['application.status_changed', 'appointment.booked'];
    const withExamples = [...Object.keys(examples.eventPayloadExamples), 'request.created'];
    expect([...withExamples, ...reserved].sort()).toEqual([...EVENT_NAMES].sort());
  });
});

describe('the document', () => {
  const document = buildOpenApiDocument('https://api.immoflow.test');
  const operations = [
    ...Object.values(document.paths ?? {}).flatMap((item) => Object.values(item as Record<string, { operationId?: string; tags?: string[]; summary?: string; responses?: unknown; requestBody?: unknown }>)),
    ...Object.values(document.webhooks ?? {}).flatMap((item) => Object.values(item as Record<string, { operationId?: string; tags?: string[]; summary?: string }>)),
  ];

  it('gives every operation a unique camelCase operationId, a declared tag and a summary', () => {
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const declared = new Set((document.tags ?? []).map((tag) => tag.name));
    for (const operation of operations) {
      expect(operation.tags?.length).toBeGreaterThan(0);
      for (const tag of operation.tags ?? []) expect(declared).toContain(tag);
      expect(operation.summary).toBeTruthy();
    }
    expect((document.tags ?? []).every((tag) => Boolean(tag.description))).toBe(true);
  });

  it('has an example on every request body and every 2xx JSON response', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(item as Record<string, { requestBody?: { content: Record<string, { example?: unknown }> }; responses: Record<string, { content?: Record<string, { example?: unknown }> }> }>)) {
        for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) if (media.example === undefined) missing.push(`${method} ${path} request ${type}`);
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!status.startsWith('2')) continue;
          if (!response.content) missing.push(`${method} ${path} ${status} (no content)`);
          for (const [type, media] of Object.entries(response.content ?? {})) if (media.example === undefined) missing.push(`${method} ${path} ${status} ${type}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('names a loopback PUBLIC_BASE_URL as the relative server, any other as it is', () => {
    expect(buildOpenApiDocument('http://localhost:3000').servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(document.servers).toEqual([expect.objectContaining({ url: 'https://api.immoflow.test' })]);
  });
});
