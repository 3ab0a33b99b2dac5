import { ImmoflowApiError, ImmoflowNetworkError, createImmoflowClient, paginate, unwrap } from '@immoflow/sdk';

/** A scripted server: each step answers one request (or throws, like fetch on a dead connection). */
function scriptedFetch(steps: ((request: Request) => Response | Promise<Response>)[]) {
  const requests: { method: string; url: string; headers: Headers; body: string }[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    requests.push({ method: request.method, url: request.url, headers: request.headers, body: await request.clone().text() });
    const step = steps.shift();
    if (!step) throw new Error('unexpected request');
    return step(request);
  };
  return { fetch, requests };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const refused = () => {
  throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
};
const listingBody = { external_ref: 'CRM-1', title: 'Flat' } as never;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createImmoflowClient', () => {
  it('sends X-API-Key to the base URL joined with the path', async () => {
    const server = scriptedFetch([() => json(200, { data: { id: 'x' } })]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test/', apiKey: 'sk_test_1', fetch: server.fetch });
    await client.GET('/api/v1/listings/{id}', { params: { path: { id: '7d3e0f59-6e59-4c43-9a39-5c1a1d7a0b11' } } });
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: 'http://api.test/api/v1/listings/7d3e0f59-6e59-4c43-9a39-5c1a1d7a0b11' });
    expect(server.requests[0].headers.get('x-api-key')).toBe('sk_test_1');
  });
});

describe('client.idempotent', () => {
  it('retries network failures with the same generated UUID v4 key and body', async () => {
    const server = scriptedFetch([refused, refused, () => json(201, { data: { id: 'l1' } })]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: server.fetch, retry: { baseDelayMs: 1 } });
    const result = await client.idempotent.POST('/api/v1/listings', { body: listingBody });
    expect(result.response.status).toBe(201);
    expect(result.attempts).toBe(3);
    expect(result.idempotencyKey).toMatch(UUID_V4);
    expect(server.requests.map((request) => request.headers.get('idempotency-key'))).toEqual([result.idempotencyKey, result.idempotencyKey, result.idempotencyKey]);
    expect(new Set(server.requests.map((request) => request.body))).toEqual(new Set([JSON.stringify(listingBody)]));
    expect(server.requests[0].headers.get('content-type')).toBe('application/json');
  });

  it('uses a fresh key per call, or the one given (as option or header parameter)', async () => {
    const server = scriptedFetch(Array.from({ length: 4 }, () => () => json(201, { data: {} })));
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: server.fetch });
    const first = await client.idempotent.POST('/api/v1/listings', { body: listingBody });
    const second = await client.idempotent.POST('/api/v1/listings', { body: listingBody });
    expect(first.idempotencyKey).not.toBe(second.idempotencyKey);
    const given = '1b4e28ba-2fa1-4d2e-883f-0016d3cca427';
    expect((await client.idempotent.POST('/api/v1/listings', { body: listingBody, idempotencyKey: given })).idempotencyKey).toBe(given);
    await client.idempotent.POST('/api/v1/listings', { body: listingBody, params: { header: { 'Idempotency-Key': given } }, headers: new Headers({ 'X-Trace': 't1' }) });
    expect(server.requests.slice(2).map((request) => request.headers.get('idempotency-key'))).toEqual([given, given]);
    // Caller headers survive, whatever form they come in.
    expect(server.requests[3].headers.get('x-trace')).toBe('t1');
  });

  it('gives up after the retry budget with ImmoflowNetworkError carrying the key', async () => {
    const server = scriptedFetch([refused, refused, refused]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: server.fetch, retry: { retries: 2, baseDelayMs: 1 } });
    const error = await client.idempotent.POST('/api/v1/listings', { body: listingBody }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImmoflowNetworkError);
    expect(error).toMatchObject({ attempts: 3, idempotencyKey: server.requests[0].headers.get('idempotency-key') });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(server.requests).toHaveLength(3);
  });

  it('waits Retry-After on 409 IDEMPOTENCY_KEY_IN_USE, and returns other HTTP errors at once', async () => {
    const inUse = () => json(409, { error: { code: 'IDEMPOTENCY_KEY_IN_USE', message: 'busy', request_id: 'r' } }, { 'Retry-After': '1' });
    const server = scriptedFetch([inUse, () => json(201, { data: { id: 'l1' } }), () => json(400, { error: { code: 'VALIDATION_ERROR', message: 'bad', request_id: 'r2' } }), () => json(503, { error: { code: 'DATABASE_UNAVAILABLE', message: 'down', request_id: 'r3' } })]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: server.fetch, retry: { baseDelayMs: 1 } });
    const started = Date.now();
    const created = await client.idempotent.POST('/api/v1/listings', { body: listingBody });
    expect({ status: created.response.status, attempts: created.attempts }).toEqual({ status: 201, attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const invalid = await client.idempotent.POST('/api/v1/listings', { body: listingBody });
    expect({ status: invalid.response.status, attempts: invalid.attempts, code: invalid.error?.error.code }).toEqual({ status: 400, attempts: 1, code: 'VALIDATION_ERROR' });
    const down = await client.idempotent.PATCH('/api/v1/listings/{id}', { params: { path: { id: 'x' } }, body: { title: 'T' } });
    expect({ status: down.response.status, attempts: down.attempts }).toEqual({ status: 503, attempts: 1 });
  });

  it('does not retry an abort or an error that is not the fetch failing', async () => {
    const controller = new AbortController();
    const aborting = scriptedFetch([
      () => {
        controller.abort();
        throw new DOMException('aborted', 'AbortError');
      },
    ]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: aborting.fetch, retry: { baseDelayMs: 1 } });
    await expect(client.idempotent.POST('/api/v1/listings', { body: listingBody, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(aborting.requests).toHaveLength(1);

    // A 2xx with a body that is not JSON: a parse error after the write ran, never a reason to resend.
    const garbled = scriptedFetch([() => new Response('{not json', { status: 201, headers: { 'Content-Length': '9' } })]);
    const other = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: garbled.fetch, retry: { baseDelayMs: 1 } });
    await expect(other.idempotent.POST('/api/v1/listings', { body: listingBody })).rejects.toMatchObject({ name: 'SyntaxError' }); // Node's realm, not jest's: compare by name
    expect(garbled.requests).toHaveLength(1);
  });
});

describe('paginate and unwrap', () => {
  it('follows next_cursor until has_more is false, keeping the other query parameters', async () => {
    const page = (ids: string[], next: string | null) => () => json(200, { data: ids.map((id) => ({ id })), pagination: { next_cursor: next, has_more: next !== null, limit: 2 } });
    const server = scriptedFetch([page(['a', 'b'], 'c1'), page(['c', 'd'], 'c2'), page(['e'], null)]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: server.fetch });
    const ids: string[] = [];
    for await (const listing of paginate(client, '/api/v1/listings', { params: { query: { limit: 2, status: 'active' } } })) ids.push(listing.id);
    expect(ids).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(server.requests.map((request) => new URL(request.url).search)).toEqual(['?limit=2&status=active', '?limit=2&status=active&cursor=c1', '?limit=2&status=active&cursor=c2']);
  });

  it('fetches lazily and throws ImmoflowApiError on an error page', async () => {
    const server = scriptedFetch([
      () => json(200, { data: [{ id: 'a' }], pagination: { next_cursor: 'c1', has_more: true, limit: 1 } }),
      () => json(400, { error: { code: 'VALIDATION_ERROR', message: 'cursor is not a cursor', details: { fields: [] }, request_id: 'req-1' } }),
    ]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: server.fetch });
    const iterator = paginate(client, '/api/v1/events', { params: { query: { limit: 1 } } });
    expect((await iterator.next()).value).toEqual({ id: 'a' });
    expect(server.requests).toHaveLength(1);
    const error = await iterator.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImmoflowApiError);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', requestId: 'req-1', details: { fields: [] } });
  });

  it('unwrap returns data or throws ImmoflowApiError, also for a body that is not the envelope', async () => {
    const server = scriptedFetch([() => json(200, { data: { id: 'a' } }), () => new Response('Bad Gateway', { status: 502, headers: { 'X-Request-Id': 'gw' } })]);
    const client = createImmoflowClient({ baseUrl: 'http://api.test', apiKey: 'sk', fetch: server.fetch });
    expect(await unwrap(client.GET('/api/v1/listings/{id}', { params: { path: { id: 'a' } } }))).toEqual({ data: { id: 'a' } });
    await expect(unwrap(client.GET('/api/v1/listings/{id}', { params: { path: { id: 'a' } } }))).rejects.toMatchObject({ status: 502, code: 'HTTP_502', requestId: 'gw' });
  });
});
