import { discoverIdRoutes, fillPath, idTypesByParamName } from '../../../bench/chaos/scenarios/crossTenant';
import { buildOpenApiDocument } from '../../../src/openapi/document';

const document = {
  security: [{ ApiKey: [] }],
  paths: {
    '/api/v1/things': { get: {}, post: {} },
    '/api/v1/things/{id}': { get: {}, patch: { requestBody: { content: { 'application/json': { example: { name: 'x' } } } } }, delete: {} },
    '/api/v1/things/{id}/parts/{part_id}': { parameters: [{ in: 'path', name: 'id' }], get: {} },
    '/api/v1/things/{id}/parts': { delete: { parameters: [{ in: 'query', name: 'part_id', required: true, schema: { example: 'p_1' } }, { in: 'query', name: 'page' }] } },
    '/hooks/{hookId}': { post: { security: [] } },
    '/crm/things/{id}': { get: { security: [{ CrmToken: [] }] } },
  },
};

describe('route discovery from an OpenAPI document', () => {
  const routes = discoverIdRoutes(document);

  it('finds every method of every path with an id, with the id type before each parameter', () => {
    expect(routes.map((route) => `${route.method} ${route.path}`).sort()).toEqual(
      ['DELETE /api/v1/things/{id}', 'DELETE /api/v1/things/{id}/parts', 'GET /api/v1/things/{id}', 'PATCH /api/v1/things/{id}', 'GET /api/v1/things/{id}/parts/{part_id}', 'POST /hooks/{hookId}', 'GET /crm/things/{id}'].sort(),
    );
    expect(routes.find((route) => route.path.endsWith('{part_id}'))?.params).toEqual([{ name: 'id', idType: 'things' }, { name: 'part_id', idType: 'parts' }]);
  });

  it('tells per-organisation routes from public and per-partner ones', () => {
    const auth = Object.fromEntries(routes.map((route) => [`${route.method} ${route.path}`, route.auth]));
    expect(auth).toMatchObject({ 'GET /api/v1/things/{id}': 'organisation', 'POST /hooks/{hookId}': 'none', 'GET /crm/things/{id}': 'crm-token' });
  });

  it('keeps the body example and fills a required query id by its name', () => {
    expect(routes.find((route) => route.method === 'PATCH')?.example).toEqual({ name: 'x' });
    const parts = routes.find((route) => route.method === 'DELETE' && route.path.endsWith('/parts'))!;
    expect(fillPath(parts, { things: 't 1', parts: 'p_9' }, idTypesByParamName(routes))).toBe('/api/v1/things/t%201/parts?part_id=p_9');
    expect(fillPath(parts, { things: 't1' })).toBe('/api/v1/things/t1/parts?part_id=p_1');
  });

  it("covers the product's own document: every id type of issue 17 is discovered", () => {
    const ours = discoverIdRoutes(buildOpenApiDocument('http://127.0.0.1'));
    const types = new Set(ours.flatMap((route) => route.params.map((param) => param.idType)));
    for (const type of ['listings', 'images', 'webhooks', 'deliveries', 'targets', 'connections', 'requests']) expect(types).toContain(type);
    expect(ours.length).toBeGreaterThanOrEqual(20);
  });
});
