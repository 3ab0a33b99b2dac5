import fc from 'fast-check';
import { MUTATIONS, POLLUTION_MARKER, mutationArbitrary, nested } from '../../../bench/chaos/hostile/mutations';
import { OpenApiDocument, fillPath, writeOperations } from '../../../bench/chaos/hostile/operations';
import { arbitraryFromSchema, fitsSchema, resolveSchema } from '../../../bench/chaos/hostile/schemaArbitrary';
import { planRequests } from '../../../bench/chaos/scenarios/hostileInput';
import { buildOpenApiDocument } from '../../../src/openapi/document';

const doc = buildOpenApiDocument('http://127.0.0.1') as unknown as OpenApiDocument;
const SEED = 4242;

describe('arbitraryFromSchema', () => {
  it.each(['UpsertListingRequest', 'PatchListingRequest', 'CreateImageRequest', 'CreateWebhookRequest', 'PatchWebhookRequest', 'AgencyKeyDelivery', 'EnergyCertificate'])(
    'yields only values that fit %s',
    (name) => {
      const schema = { $ref: `#/components/schemas/${name}` };
      fc.assert(fc.property(arbitraryFromSchema(schema, doc), (value) => fitsSchema(value, schema, doc)), { seed: SEED, numRuns: 200 });
    },
  );

  it('honours required keys, enums, bounds and nullable types', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'integer', minimum: 3, maximum: 5 }, b: { type: ['string', 'null'], enum: ['x', null] }, c: { type: 'number', exclusiveMinimum: 0, maximum: 1 } },
      required: ['a'],
      additionalProperties: false,
    };
    const values = fc.sample(arbitraryFromSchema(schema, doc), { seed: SEED, numRuns: 300 }) as Record<string, unknown>[];
    expect(values.every((value) => typeof value.a === 'number' && value.a >= 3 && value.a <= 5)).toBe(true);
    expect(values.every((value) => !('b' in value) || value.b === 'x' || value.b === null)).toBe(true);
    expect(values.every((value) => !('c' in value) || ((value.c as number) > 0 && (value.c as number) <= 1))).toBe(true);
    expect(values.some((value) => 'b' in value) && values.some((value) => !('b' in value))).toBe(true);
  });

  it('checks what it is given: the checker refuses values outside the schema', () => {
    const schema = { $ref: '#/components/schemas/CreateImageRequest' };
    expect(fitsSchema({ filename: 'a.jpg', content_type: 'image/jpeg', size: 10 }, schema, doc)).toBe(true);
    expect(fitsSchema({ filename: 'a.jpg', content_type: 'image/gif', size: 10 }, schema, doc)).toBe(false);
    expect(fitsSchema({ filename: 'a.jpg', content_type: 'image/jpeg', size: 0 }, schema, doc)).toBe(false);
    expect(fitsSchema({ filename: 'a.jpg', content_type: 'image/jpeg', size: 10, extra: 1 }, schema, doc)).toBe(false);
    expect(() => resolveSchema({ $ref: '#/components/schemas/Nope' }, doc)).toThrow('unresolvable');
  });
});

describe('writeOperations', () => {
  it('lists every write route of the document with its credential, including /crm and /partner-hooks', () => {
    const operations = writeOperations(doc);
    const byRoute = new Map(operations.map((op) => [`${op.method} ${op.path}`, op]));
    expect(operations.length).toBeGreaterThanOrEqual(20);
    expect(operations.every((op) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method))).toBe(true);
    expect(byRoute.get('POST /api/v1/listings')?.credential).toBe('api_key');
    expect(byRoute.get('POST /crm/oauth')?.credential).toBe('crm_client');
    expect(byRoute.get('POST /crm/integrate')?.credential).toBe('crm_token');
    expect(byRoute.get('POST /partner-hooks/{targetId}')?.credential).toBe('signature');
    expect(byRoute.get('PATCH /api/v1/listings/{id}/images/{image_id}')?.pathParams).toEqual(['id', 'image_id']);
    expect(byRoute.get('POST /api/v1/inbound/mail')?.contentType).toBe('message/rfc822');
  });

  it('fills path parameters, escaped unless asked not to', () => {
    expect(fillPath('/a/{id}/b/{x}', { id: 'a b', x: '%00' }, new Set(['x']))).toBe('/a/a%20b/b/%00');
    expect(() => fillPath('/a/{id}', {})).toThrow('no value');
  });
});

describe('mutations', () => {
  const valid = { external_ref: 'CRM-1', title: 'Flat', rooms: 2 };

  it.each(MUTATIONS.map((mutation) => [mutation]))('%s draws the same bytes from the same seed', (mutation) => {
    const arbitrary = mutationArbitrary(mutation, valid, 1024);
    const first = fc.sample(arbitrary, { seed: SEED, numRuns: 20 });
    const second = fc.sample(arbitrary, { seed: SEED, numRuns: 20 });
    expect(first.map((raw) => raw.body?.toString('hex'))).toEqual(second.map((raw) => raw.body?.toString('hex')));
  });

  const bodies = (mutation: (typeof MUTATIONS)[number], runs = 60) => fc.sample(mutationArbitrary(mutation, valid, 1024), { seed: SEED, numRuns: runs });

  it('makes invalid UTF-8 that a strict decoder refuses', () => {
    for (const raw of bodies('invalid_utf8')) expect(() => new TextDecoder('utf-8', { fatal: true }).decode(raw.body)).toThrow();
  });

  it('writes 1e309 and its kin as literals, which JSON.stringify cannot', () => {
    const texts = bodies('number_1e309').map((raw) => raw.body!.toString());
    expect(texts.some((text) => text.includes('1e309'))).toBe(true);
    expect(texts.some((text) => JSON.parse(text) && Object.values(JSON.parse(text)).includes(Infinity))).toBe(true);
  });

  it('sends pollution keys that JSON.parse keeps as own properties, and nests 10 000 levels', () => {
    const texts = bodies('proto_keys').map((raw) => raw.body!.toString());
    expect(texts.some((text) => text.includes(`"__proto__":{"${POLLUTION_MARKER}":1}`))).toBe(true);
    expect(texts.some((text) => text.includes('"constructor":{"prototype"'))).toBe(true);
    const parsed = JSON.parse(`{"__proto__":{"${POLLUTION_MARKER}":1}}`);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)[POLLUTION_MARKER]).toBeUndefined();
    expect(bodies('deep_nesting', 100).some((raw) => raw.body!.toString().startsWith(nested(10_000, '1', 'array').slice(0, 10_000)))).toBe(true);
  });

  it('truncates, empties, mistypes the content and exceeds the body limit', () => {
    const full = JSON.stringify(valid);
    expect(bodies('truncated').every((raw) => raw.body!.length < full.length && full.startsWith(raw.body!.toString()))).toBe(true);
    expect(bodies('empty').some((raw) => raw.body!.length === 0)).toBe(true);
    expect(bodies('wrong_content_type').some((raw) => raw.headers['content-type'] === undefined)).toBe(true);
    expect(bodies('huge_body').some((raw) => raw.body!.length > 1024)).toBe(true);
    expect(bodies('nul_and_c0').some((raw) => JSON.parse(raw.body!.toString()).title?.includes('\u0000') || raw.body!.toString().includes('\\u0000'))).toBe(true);
  });
});

describe('planRequests', () => {
  it('covers every write route and every mutation, the same way for the same seed', () => {
    const plan = planRequests(doc, 500, SEED, 1024 * 1024);
    expect(plan.length).toBe(500);
    expect(new Set(plan.map((item) => item.mutation))).toEqual(new Set(MUTATIONS));
    expect(new Set(plan.map((item) => item.op.path)).size).toBe(new Set(writeOperations(doc).map((op) => op.path)).size);
    const again = planRequests(doc, 500, SEED, 1024 * 1024);
    expect(again.map((item) => `${item.op.method}${item.op.path}${item.mutation}${item.raw.body?.toString('hex')}`)).toEqual(
      plan.map((item) => `${item.op.method}${item.op.path}${item.mutation}${item.raw.body?.toString('hex')}`),
    );
  });
});
