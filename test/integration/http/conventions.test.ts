import { Router } from 'express';
import { requireFeatureFlag, requireScope, requireSecretKey } from '../../../src/http/auth';
import { FeatureRouterFactory } from '../../../src/http/app';
import { hashApiKey } from '../../../src/identity/apiKeySecrets';
import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';

/**
 * A router shaped like every real feature router (flag gate, sk-only, scope), so the
 * conventions are proven on the real app, real Postgres and real HTTP.
 */
const probeRouter: FeatureRouterFactory = () => {
  const router = Router();
  router.post('/probe', requireFeatureFlag('LISTINGS_WRITE_API_ENABLED'), requireSecretKey, requireScope('listings:write'), (req, res) => {
    res.status(201).json({ data: { received: req.body } });
  });
  router.get('/boom', () => {
    throw new Error('internal detail that must not leak');
  });
  return router;
};

let ctx: TestContext;
let api: TestApi;

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_PER_HOUR: '1000', HTTP_BODY_LIMIT: '2kb' });
  api = await startTestApi(ctx.deps, [probeRouter]);
});

afterAll(async () => {
  await api.close();
  await ctx.close();
});

describe('authentication', () => {
  it('answers 401 UNAUTHENTICATED without a key, with an unknown key and with a malformed key', async () => {
    for (const key of [undefined, 'sk_test_' + 'x'.repeat(32), 'garbage']) {
      const response = await api.request('GET', '/api/v1/me', { key });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHENTICATED');
      expect(response.body.error.request_id).toBe(response.headers.get('x-request-id'));
    }
  });

  it('accepts the header in any case and reports the key context', async () => {
    const org = await seedOrganization(ctx.deps);
    for (const header of ['X-API-Key', 'x-api-key', 'X-API-KEY']) {
      const response = await api.request('GET', '/api/v1/me', { headers: { [header]: org.secretKey } });
      expect(response.status).toBe(200);
      expect(response.body.data.organization).toMatchObject({ id: org.organization.id, plan: 'pro', active_listing_cap: 2500 });
      expect(response.body.data.api_key).toMatchObject({ kind: 'secret', mode: 'test', scopes: ['*:delete'] });
    }
  });

  it('rejects a revoked key with 401 and records last use', async () => {
    const org = await seedOrganization(ctx.deps);
    expect((await api.request('GET', '/api/v1/me', { key: org.secretKey })).status).toBe(200);
    const used = await ctx.deps.db('api_keys').where({ id: org.secretKeyId }).first('last_used_at');
    expect(used.last_used_at).toBeInstanceOf(Date);

    await ctx.deps.identity.revokeApiKey(org.secretKeyId);
    const response = await api.request('GET', '/api/v1/me', { key: org.secretKey });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('stores no plaintext key, only its SHA-256', async () => {
    const org = await seedOrganization(ctx.deps);
    const rows = await ctx.deps.db('api_keys').where({ org_id: org.organization.id });
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(org.secretKey);
    expect(dump).not.toContain(org.publishableKey);
    expect(rows.map((row) => row.key_hash)).toContain(hashApiKey(org.secretKey));
  });
});

describe('authorisation', () => {
  it('answers 403 INSUFFICIENT_SCOPE to a publishable key on an sk-only route', async () => {
    const org = await seedOrganization(ctx.deps);
    const response = await api.request('POST', '/api/v1/probe', { key: org.publishableKey, body: {} });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('INSUFFICIENT_SCOPE');
  });

  it('answers 403 INSUFFICIENT_SCOPE when the scope is missing, and accepts an implying scope', async () => {
    const org = await seedOrganization(ctx.deps);
    const readOnly = await ctx.deps.identity.createApiKey({ orgId: org.organization.id, kind: 'secret', mode: 'live', scopes: ['listings:read'] });
    const denied = await api.request('POST', '/api/v1/probe', { key: readOnly.key, body: {} });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringContaining('listings:write') });

    const deleter = await ctx.deps.identity.createApiKey({ orgId: org.organization.id, kind: 'secret', mode: 'live', scopes: ['listings:delete'] });
    const allowed = await api.request('POST', '/api/v1/probe', { key: deleter.key, body: { a: 1 } });
    expect(allowed.status).toBe(201);
    expect(allowed.body).toEqual({ data: { received: { a: 1 } } });
  });

  it('answers 404 NOT_FOUND while the feature flag is off, and serves the route once it is on', async () => {
    const org = await seedOrganization(ctx.deps, { flags: [] });
    const hidden = await api.request('POST', '/api/v1/probe', { key: org.secretKey, body: {} });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('NOT_FOUND');

    await ctx.deps.identity.setFeatureFlag(org.organization.id, 'LISTINGS_WRITE_API_ENABLED', true);
    expect((await api.request('POST', '/api/v1/probe', { key: org.secretKey, body: {} })).status).toBe(201);
  });
});

describe('HTTP conventions', () => {
  it('puts a request id on every response and echoes a sane client id', async () => {
    const own = await api.request('GET', '/healthz', { headers: { 'X-Request-Id': 'crm-sync-000123' } });
    expect(own.headers.get('x-request-id')).toBe('crm-sync-000123');
    const generated = await api.request('GET', '/nowhere');
    expect(generated.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('answers an unknown route with 404 in the envelope', async () => {
    const response = await api.request('GET', '/nowhere');
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: 'NOT_FOUND', request_id: expect.any(String) });
  });

  it('answers malformed JSON with 400 VALIDATION_ERROR and an oversize body with 413', async () => {
    const org = await seedOrganization(ctx.deps);
    const malformed = await api.request('POST', '/api/v1/probe', { key: org.secretKey, rawBody: '{"title": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
    expect(malformed.body.error.details.fields[0].path).toBe('(body)');

    const oversize = await api.request('POST', '/api/v1/probe', { key: org.secretKey, body: { text: 'x'.repeat(4096) } });
    expect(oversize.status).toBe(413);
    expect(oversize.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('never leaks a stack trace or an internal message', async () => {
    const org = await seedOrganization(ctx.deps);
    const response = await api.request('GET', '/api/v1/boom', { key: org.secretKey });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('INTERNAL_ERROR');
    expect(response.text).not.toContain('internal detail');
    expect(response.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('sets RateLimit headers on every authenticated response', async () => {
    const org = await seedOrganization(ctx.deps);
    const first = await api.request('GET', '/api/v1/me', { key: org.secretKey });
    const second = await api.request('GET', '/api/v1/me', { key: org.secretKey });
    expect(first.headers.get('ratelimit-limit')).toBe('1000');
    expect(first.headers.get('ratelimit-remaining')).toBe('999');
    expect(second.headers.get('ratelimit-remaining')).toBe('998');
    expect(Number(second.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
  });

  it('exposes Prometheus metrics', async () => {
    await api.request('GET', '/healthz');
    const response = await api.request('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.text).toContain('immoflow_http_requests_total');
    expect(response.text).toContain('process_resident_memory_bytes');
  });
});
