import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  ImmoflowApiError,
  type ImmoflowClient,
  type WebhookEvent,
  WebhookVerificationError,
  createImmoflowClient,
  paginate,
  paths,
  unwrap,
  verifyWebhook,
} from '@immoflow/sdk';
import { TestApi, TestContext, eventually, seedOrganization } from '../../support/context';
import { FakeSubscriber, ReceivedDelivery, startFakeSubscriber } from '../../support/fakeSubscriber';
import { completeListing } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

type UpsertListing = paths['/api/v1/listings']['post']['requestBody'] extends { content: { 'application/json': infer Body } } | undefined ? Body : never;
// The fixture types its enums as plain strings; the server validates it, which is what is tested.
const listingBody = (overrides: Record<string, unknown> = {}) => completeListing(overrides) as UpsertListing;

/** A subscriber written as the SDK README tells a CRM developer to write one: Express, express.raw, verifyWebhook. */
interface ExpressSubscriber {
  hostPort: string;
  url: string;
  secret?: string;
  verified: WebhookEvent[];
  rejected: string[];
  close(): Promise<void>;
}

async function startExpressSubscriber(): Promise<ExpressSubscriber> {
  const state: ExpressSubscriber = { hostPort: '', url: '', verified: [], rejected: [], close: async () => undefined };
  const app = express();
  app.post('/immoflow/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
    try {
      const event = verifyWebhook(req.body as Buffer, req.headers, state.secret ?? '');
      state.verified.push(event);
      res.sendStatus(204);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      state.rejected.push(error.code);
      res.status(400).send(error.code);
    }
  });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  state.hostPort = `127.0.0.1:${port}`;
  state.url = `http://127.0.0.1:${port}/immoflow/webhooks`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

let subscriber: FakeSubscriber;
let expressSubscriber: ExpressSubscriber;
let stack: TestStack;
let ctx: TestContext;
let api: TestApi;

beforeAll(async () => {
  subscriber = await startFakeSubscriber();
  expressSubscriber = await startExpressSubscriber();
  stack = await startTestStack({ WEBHOOK_ALLOW_TARGETS: `${subscriber.hostPort},${expressSubscriber.hostPort}`, WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s' });
  ({ ctx, api } = stack);
});

afterAll(async () => {
  await stack.close();
  await subscriber.close();
  await expressSubscriber.close();
});

/** A fresh organisation and an SDK client for it, counting the requests that reach fetch. */
async function sdkFor(fetchImpl?: (request: Request) => Promise<Response>) {
  const org = await seedOrganization(ctx.deps);
  const sent: Request[] = [];
  const client = createImmoflowClient({
    baseUrl: api.baseUrl,
    apiKey: org.secretKey,
    retry: { baseDelayMs: 20 },
    fetch: (request) => {
      sent.push(request);
      return (fetchImpl ?? fetch)(request);
    },
  });
  return { org, client, sent };
}

const listingsOf = (orgId: string, externalRef: string) => ctx.deps.db('listings').where({ org_id: orgId, external_ref: externalRef });

describe('idempotent writes', () => {
  it('creates a listing and replays it for the same key (Idempotent-Replayed, same id), once in the database', async () => {
    const { org, client } = await sdkFor();
    const body = listingBody();
    const created = await client.idempotent.POST('/api/v1/listings', { body });
    expect({ status: created.response.status, error: created.error }).toEqual({ status: 201, error: undefined });
    expect(created.response.headers.get('idempotent-replayed')).toBeNull();
    expect(created.data?.data).toMatchObject({ external_ref: body.external_ref, status: 'draft' });

    const replay = await client.idempotent.POST('/api/v1/listings', { body, idempotencyKey: created.idempotencyKey });
    expect(replay.response.status).toBe(201);
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.data?.data.id).toBe(created.data?.data.id);

    // Same key, other body: the server refuses rather than running a different write under it.
    const reused = await client.idempotent.POST('/api/v1/listings', { body: { ...body, title: 'Another title' }, idempotencyKey: created.idempotencyKey });
    expect({ status: reused.response.status, code: reused.error?.error.code }).toEqual({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await listingsOf(org.organization.id, body.external_ref)).toHaveLength(1);
  });

  it('retries a connection that failed before the request left, with the same key: one listing', async () => {
    let failures = 1;
    const { org, client, sent } = await sdkFor(async (request) => {
      if (failures-- > 0) throw new TypeError('fetch failed', { cause: new Error('connect ECONNRESET') });
      return fetch(request);
    });
    const body = listingBody();
    const result = await client.idempotent.POST('/api/v1/listings', { body });
    expect({ status: result.response.status, attempts: result.attempts }).toEqual({ status: 201, attempts: 2 });
    expect(sent.map((request) => request.headers.get('idempotency-key'))).toEqual([result.idempotencyKey, result.idempotencyKey]);
    expect(await listingsOf(org.organization.id, body.external_ref)).toHaveLength(1);
  });

  it('retries a response lost after the server wrote: the retry is answered from the stored response, one listing', async () => {
    let lose = 1;
    const { org, client, sent } = await sdkFor(async (request) => {
      if (lose-- > 0) {
        // The write reaches the server and commits; only its answer is lost on the way back.
        const answered = await fetch(request);
        await answered.arrayBuffer();
        throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
      }
      return fetch(request);
    });
    const body = listingBody();
    const result = await client.idempotent.POST('/api/v1/listings', { body });
    expect({ status: result.response.status, attempts: result.attempts }).toEqual({ status: 201, attempts: 2 });
    expect(result.response.headers.get('idempotent-replayed')).toBe('true');
    expect(new Set(sent.map((request) => request.headers.get('idempotency-key')))).toEqual(new Set([result.idempotencyKey]));
    const rows = await listingsOf(org.organization.id, body.external_ref);
    expect(rows.map((row: { id: string }) => row.id)).toEqual([result.data?.data.id]);
    // One listing.created, not two: the retry ran nothing.
    const created = await ctx.deps.db('events').where({ org_id: org.organization.id, name: 'listing.created' });
    expect(created).toHaveLength(1);
  });
});

describe('cursor pagination', () => {
  it('iterates 7 listings over 3 pages of 3, oldest change first', async () => {
    const { client, sent } = await sdkFor();
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) ids.push((await unwrap(client.idempotent.POST('/api/v1/listings', { body: listingBody() }))).data.id);
    sent.length = 0;

    const seen: string[] = [];
    for await (const listing of paginate(client, '/api/v1/listings', { params: { query: { limit: 3 } } })) seen.push(listing.id);
    expect(seen).toEqual(ids);
    const pages = sent.map((request) => new URL(request.url).searchParams);
    expect(pages.map((query) => query.get('limit'))).toEqual(['3', '3', '3']);
    expect(pages[0].get('cursor')).toBeNull();
    expect(pages.slice(1).every((query) => Boolean(query.get('cursor')))).toBe(true);

    // Stopping early fetches no further page.
    sent.length = 0;
    for await (const listing of paginate(client, '/api/v1/listings', { params: { query: { limit: 3 } } })) {
      expect(listing.id).toBe(ids[0]);
      break;
    }
    expect(sent).toHaveLength(1);
  });

  it('throws ImmoflowApiError for a cursor the server did not issue', async () => {
    const { client } = await sdkFor();
    const pages = paginate(client, '/api/v1/listings', { params: { query: { cursor: 'not-a-cursor' } } });
    const error = await pages.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImmoflowApiError);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
  });
});

describe('typed errors', () => {
  it('returns the error envelope for 404 and 400, and unwrap throws it with the request id', async () => {
    const { client } = await sdkFor();
    const missing = await client.GET('/api/v1/listings/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('NOT_FOUND');
    expect(missing.error?.error.request_id).toBe(missing.response.headers.get('x-request-id'));

    const invalid = await client.idempotent.POST('/api/v1/listings', { body: listingBody({ living_area: -5 }) });
    expect({ status: invalid.response.status, code: invalid.error?.error.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
    expect(JSON.stringify(invalid.error?.error.details)).toContain('living_area');

    const thrown = await unwrap(client.GET('/api/v1/listings/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } })).catch((caught: unknown) => caught);
    expect(thrown).toBeInstanceOf(ImmoflowApiError);
    expect(thrown).toMatchObject({ status: 404, code: 'NOT_FOUND', requestId: expect.any(String) });
  });

  it('sends the API key: another key sees nothing of this organisation', async () => {
    const { client } = await sdkFor();
    const created = await unwrap(client.idempotent.POST('/api/v1/listings', { body: listingBody() }));
    const { client: other } = await sdkFor();
    expect((await other.GET('/api/v1/listings/{id}', { params: { path: { id: created.data.id } } })).response.status).toBe(404);
    const anonymous = createImmoflowClient({ baseUrl: api.baseUrl, apiKey: 'sk_test_unknown' });
    expect((await anonymous.GET('/api/v1/listings')).error?.error.code).toBe('UNAUTHENTICATED');
  });
});

describe('verifyWebhook on real deliveries', () => {
  /** The create response is the only one that carries the secret. */
  async function subscribe(client: ImmoflowClient, url: string, events: string[]) {
    return (await unwrap(client.idempotent.POST('/api/v1/webhooks', { body: { url, events } }))).data;
  }

  it('verifies a listing.created delivery under both schemes and rejects a tampered body', async () => {
    const { client } = await sdkFor();
    const url = subscriber.endpoint();
    const webhook = await subscribe(client, url, ['listing.created']);
    expect(webhook.secret).toMatch(/^whsec_/);
    const listing = await unwrap(client.idempotent.POST('/api/v1/listings', { body: listingBody() }));

    const delivery: ReceivedDelivery = await eventually(async () => subscriber.received.find((received) => received.path === new URL(url).pathname && received.body?.eventPayload?.listingId === listing.data.id));
    // Immoflow sends both schemes on every delivery.
    expect(delivery.headers).toMatchObject({ 'x-webhook-signature': expect.stringMatching(/^sha256=[0-9a-f]{64}$/), 'webhook-signature': expect.stringMatching(/^v1,/) });

    const event = verifyWebhook(delivery.rawBody, delivery.headers, webhook.secret);
    expect(event).toMatchObject({ eventName: 'listing.created', eventPayload: { listingId: listing.data.id } });
    expect(verifyWebhook(delivery.rawBody, delivery.headers, webhook.secret, { scheme: 'standard' }).eventId).toBe(event.eventId);
    expect(verifyWebhook(delivery.rawBody, delivery.headers, webhook.secret, { scheme: 'legacy' }).eventId).toBe(event.eventId);
    expect(delivery.headers['x-webhook-id']).toBe(event.eventId);

    const tampered = delivery.rawBody.replace(listing.data.id, '00000000-0000-4000-8000-000000000000');
    expect(tampered).not.toBe(delivery.rawBody);
    for (const scheme of ['any', 'standard', 'legacy'] as const) {
      expect(() => verifyWebhook(tampered, delivery.headers, webhook.secret, { scheme })).toThrow(WebhookVerificationError);
    }
    const { secret: otherSecret } = await subscribe(client, subscriber.endpoint(), ['listing.deleted']);
    expect(() => verifyWebhook(delivery.rawBody, delivery.headers, otherSecret)).toThrow(WebhookVerificationError);
  });

  it('an Express handler with express.raw verifies the delivery, as the README shows', async () => {
    const { client } = await sdkFor();
    const webhook = await subscribe(client, expressSubscriber.url, ['listing.created']);
    expressSubscriber.secret = webhook.secret;
    const listing = await unwrap(client.idempotent.POST('/api/v1/listings', { body: listingBody() }));
    const event = await eventually(async () => expressSubscriber.verified.find((verified) => verified.eventPayload.listingId === listing.data.id));
    expect(event.eventName).toBe('listing.created');
    // The handler answered 204, so the delivery succeeded on its first attempt.
    const deliveries = await eventually(async () => {
      const { data: rows } = await unwrap(client.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: webhook.id } } }));
      return rows.length > 0 && rows.every((row) => row.status === 'succeeded') && rows;
    });
    expect(deliveries).toHaveLength(1);
    expect(expressSubscriber.rejected).toEqual([]);
  });
});
