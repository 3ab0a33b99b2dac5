import http from 'node:http';
import { Router } from 'express';
import { FeatureRouterFactory } from '../../../src/http/app';
import { featureRouters } from '../../../src/routes';
import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';

/** Echoes what the app made of the request, so the tests see what a route would receive. */
const probeRouter: FeatureRouterFactory = () => {
  const router = Router();
  router.post('/probe', (req, res) => res.status(201).json({ data: { received: req.body ?? null } }));
  router.patch('/probe', (req, res) => res.json({ data: { received: req.body ?? null } }));
  router.delete('/probe', (_req, res) => res.status(204).end());
  return router;
};

let ctx: TestContext;
let api: TestApi;
let org: Awaited<ReturnType<typeof seedOrganization>>;

beforeAll(async () => {
  ctx = await createTestContext();
  api = await startTestApi(ctx.deps, [probeRouter, ...featureRouters]);
  org = await seedOrganization(ctx.deps);
});

afterAll(async () => {
  await api.close();
  await ctx.close();
});

/** node:http, because fetch always names a Content-Type for a string body. */
function rawRequest(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${api.baseUrl}${path}`, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON', () => {
  it.each([
    ['a form body (what curl -d sends by default)', 'application/x-www-form-urlencoded', 'street=Hauptstr'],
    ['text/plain', 'text/plain', '{"street":"Hauptstr"}'],
    ['XML', 'application/xml', '<listing/>'],
  ])('refuses %s on a JSON route, naming the type it got', async (_what, contentType, body) => {
    for (const method of ['POST', 'PATCH']) {
      const response = await api.request(method, '/api/v1/probe', { key: org.secretKey, rawBody: body, headers: { 'Content-Type': contentType } });
      expect(response.status).toBe(415);
      expect(response.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', details: { content_type: contentType, expected: 'application/json' } });
      expect(response.body.error.message).toContain('Content-Type: application/json');
      expect(response.body.error.request_id).toBe(response.headers.get('x-request-id'));
    }
  });

  it('refuses a body with no Content-Type at all', async () => {
    const response = await rawRequest('POST', '/api/v1/probe', { 'X-API-Key': org.secretKey, 'Content-Length': '2' }, '{}');
    expect(response.status).toBe(415);
    expect(response.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', details: { content_type: null } });
    expect(response.body.error.message).toContain('no Content-Type');
  });

  it('refuses it on a real route too, before the route reads anything', async () => {
    const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, rawBody: 'title=Altbau', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('reads JSON with a charset parameter, and lets requests without a body through', async () => {
    const json = await api.request('POST', '/api/v1/probe', { key: org.secretKey, rawBody: '{"a":1}', headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    expect(json.status).toBe(201);
    expect(json.body.data.received).toEqual({ a: 1 });
    const bare = await rawRequest('POST', '/api/v1/probe', { 'X-API-Key': org.secretKey });
    expect(bare.status).toBe(201);
    // fetch sends `Content-Length: 0` on a POST without a body.
    const empty = await fetch(`${api.baseUrl}/api/v1/probe`, { method: 'POST', headers: { 'X-API-Key': org.secretKey } });
    expect(empty.status).toBe(201);
    const deleted = await rawRequest('DELETE', '/api/v1/probe', { 'X-API-Key': org.secretKey });
    expect(deleted.status).toBe(204);
  });

  it('leaves POST /api/v1/inbound/mail to read message/rfc822 itself', async () => {
    const mail = ['From: a@example.com', 'To: b@example.com', 'Subject: Hallo', `Message-ID: <${Date.now()}@example.com>`, '', 'Hallo'].join('\r\n');
    const response = await api.request('POST', '/api/v1/inbound/mail', { key: org.secretKey, rawBody: mail, headers: { 'Content-Type': 'message/rfc822' } });
    expect(response.status).toBe(202);
  });
});

describe('Authorization: Bearer', () => {
  it('accepts a secret key as a Bearer token, the scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const response = await api.request('GET', '/api/v1/me', { headers: { Authorization: `${scheme} ${org.secretKey}` } });
      expect(response.status).toBe(200);
      expect(response.body.data.organization.id).toBe(org.organization.id);
    }
  });

  it('prefers X-API-Key when both are sent', async () => {
    const other = await seedOrganization(ctx.deps);
    const response = await api.request('GET', '/api/v1/me', { key: org.secretKey, headers: { Authorization: `Bearer ${other.secretKey}` } });
    expect(response.status).toBe(200);
    expect(response.body.data.organization.id).toBe(org.organization.id);
    // …even when the Authorization header is a proxy's own credential of another scheme.
    const basic = await api.request('GET', '/api/v1/me', { key: org.secretKey, headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(200);
  });

  it('answers 401 for an unknown Bearer token, an empty one and another scheme, saying how to send the key', async () => {
    const unknown = await api.request('GET', '/api/v1/me', { headers: { Authorization: `Bearer sk_test_${'x'.repeat(32)}` } });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('UNAUTHENTICATED');
    const empty = await api.request('GET', '/api/v1/me', { headers: { Authorization: 'Bearer ' } });
    expect(empty.status).toBe(401);
    expect(empty.body.error.message).toContain('The Bearer token is empty.');
    const basic = await api.request('GET', '/api/v1/me', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(basic.body.error.message).toContain('Authorization: Bearer');
    const none = await api.request('GET', '/api/v1/me');
    expect(none.body.error.message).toContain('Authorization: Bearer');
  });
});

describe('GET /api/v1/me scopes', () => {
  it('lists the granted scopes and every scope they imply', async () => {
    const key = await ctx.deps.identity.createApiKey({ orgId: org.organization.id, kind: 'secret', mode: 'test', scopes: ['listings:delete', 'events:read'] });
    const response = await api.request('GET', '/api/v1/me', { key: key.key });
    expect(response.status).toBe(200);
    expect(response.body.data.api_key.scopes).toEqual(['events:read', 'listings:delete']);
    expect(response.body.data.api_key.effective_scopes).toEqual(['events:read', 'listings:delete', 'listings:read', 'listings:write']);
  });

  it('expands *:delete to every resource and action', async () => {
    const response = await api.request('GET', '/api/v1/me', { key: org.secretKey });
    expect(response.body.data.api_key.effective_scopes).toHaveLength(7 * 3);
    expect(response.body.data.api_key.effective_scopes).toContain('targets:read');
  });
});
