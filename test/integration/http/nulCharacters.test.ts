import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';
import { completeListing } from '../../support/listings';
import { oauth, seedPartner } from '../../support/partners';

/**
 * A NUL character (U+0000) cannot be stored in Postgres text. Every JSON route refuses it with
 * 400 VALIDATION_ERROR naming the field, instead of failing at the database with a 500 (or, in a
 * webhook URL, being accepted).
 */
let ctx: TestContext;
let api: TestApi;
let org: Awaited<ReturnType<typeof seedOrganization>>;

beforeAll(async () => {
  ctx = await createTestContext();
  api = await startTestApi(ctx.deps);
  org = await seedOrganization(ctx.deps);
});

afterAll(async () => {
  await api.close();
  await ctx.close();
});

const expectRefused = (response: { status: number; body: any }, paths: string[]) => {
  expect(response.status).toBe(400);
  expect(response.body.error.code).toBe('VALIDATION_ERROR');
  expect(response.body.error.details.fields.map((field: { path: string }) => field.path).sort()).toEqual([...paths].sort());
};

describe('listings', () => {
  it.each(['title', 'description', 'street', 'city'])('refuses NUL in %s on POST', async (field) => {
    const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ external_ref: `NUL-POST-${field}`, [field]: 'Haupt\u0000str' }) });
    expectRefused(response, [field]);
  });

  it('refuses NUL on PATCH and leaves the listing as it was', async () => {
    const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ external_ref: 'NUL-PATCH' }) });
    expect(created.status).toBe(201);
    const patched = await api.request('PATCH', `/api/v1/listings/${created.body.data.id}`, { key: org.secretKey, body: { title: 'T\u0000', description: 'ok' } });
    expectRefused(patched, ['title']);
    const current = await api.request('GET', `/api/v1/listings/${created.body.data.id}`, { key: org.secretKey });
    expect(current.body.data.title).toBe(created.body.data.title);
  });

  it('refuses another control character (an ANSI escape in the city) but keeps line breaks in the description', async () => {
    const escaped = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ external_ref: 'C0-ESC', city: 'Berlin\u001b[2J' }) });
    expectRefused(escaped, ['city']);
    const multiline = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ external_ref: 'C0-LINES', description: 'Erste Zeile\r\nZweite Zeile\tmit Tab' }) });
    expect(multiline.status).toBe(201);
  });

  it('refuses NUL in a query parameter and in an object key', async () => {
    expectRefused(await api.request('GET', '/api/v1/listings?external_ref=A%00B', { key: org.secretKey }), ['query.external_ref']);
    const keyed = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: { ...(completeListing({ external_ref: 'NUL-KEY' }) as object), 'x\u0000': 1 } });
    expectRefused(keyed, ['x\\u0000']);
  });
});

describe('webhooks', () => {
  it('refuses NUL in the description and in the URL (which was accepted with 201)', async () => {
    const description = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: 'https://hooks.example.com/a', events: ['listing.published'], description: 'd\u0000' } });
    expectRefused(description, ['description']);
    const url = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: 'https://hooks.example.com/a\u0000b', events: ['listing.published'] } });
    expectRefused(url, ['url']);
    const listed = await api.request('GET', '/api/v1/webhooks', { key: org.secretKey });
    expect(listed.body.data).toEqual([]);
  });
});

describe('deep nesting', () => {
  const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

  // 10 000 levels overflowed the stack in the idempotency hash: 500 INTERNAL_ERROR (issue 17, scenario 7).
  it.each([
    ['POST', '/api/v1/listings'],
    ['PATCH', '/api/v1/listings/00000000-0000-4000-8000-000000000000'],
    ['POST', '/api/v1/webhooks'],
  ])('refuses a body nested 10 000 levels deep on %s %s with a 400 of its own', async (method, path) => {
    const response = await api.request(method, path, { key: org.secretKey, rawBody: `{"external_ref":"DEEP","x":${nested(10_000)}}`, headers: { 'Idempotency-Key': '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f' } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.message).toContain('nested deeper than 64 levels');
    expect(response.body.error.details.fields).toEqual([{ path: '(body)', message: 'is nested deeper than 64 levels' }]);
  });

  it('still reads a body of 64 levels as usual (then judges its fields)', async () => {
    const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, rawBody: `{"external_ref":"DEEP-64","x":${nested(63)}}` });
    expect(response.status).toBe(400);
    expect(response.body.error.details.fields).toEqual([{ path: 'x', message: 'is not a known field' }]);
  });
});

describe('unpaired surrogates', () => {
  // Postgres json refuses "\ud800": it failed in the outbox (/crm/integrate) and in stored idempotent responses (issue 17, scenario 7).
  it('refuses a lone surrogate in a listing field and in an unknown key, with an Idempotency-Key, with 400', async () => {
    const headers = { 'Idempotency-Key': '7c9e6a3d-1f2b-4c8a-9d10-abc123def456' };
    const field = await api.request('POST', '/api/v1/listings', { key: org.secretKey, rawBody: '{"external_ref":"SURR-1","title":"a\\ud800b"}', headers });
    expectRefused(field, ['title']);
    const key = await api.request('POST', '/api/v1/listings', { key: org.secretKey, rawBody: '{"external_ref":"SURR-2","\\udfff":1}', headers });
    expectRefused(key, ['\\udfff']);
    expect(key.body.error.details.fields[0].message).toContain('unpaired UTF-16 surrogate');
  });

  it('refuses a lone surrogate in the agencyId of /crm/integrate with 400 instead of a 500 at the outbox', async () => {
    const partner = await seedPartner(ctx.deps, 'https://93.184.215.14/hook');
    const token = (await oauth(api, partner.clientId, partner.clientSecret, { 'X-Forwarded-For': '192.0.2.77' })).body['x-crm-token'];
    const response = await api.request('POST', '/crm/integrate', { headers: { Authorization: `Bearer ${token}` }, rawBody: '{"agencyId":"agency-\\ud83d"}' });
    expectRefused(response, ['agencyId']);
  });

  it('keeps accepting emoji, which are paired surrogates', async () => {
    const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ external_ref: 'SURR-EMOJI', title: 'Wohnung 🏠 mit Balkon' }) });
    expect(response.status).toBe(201);
  });
});
