import { randomUUID } from 'node:crypto';
import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';
import { completeListing, eventsOf } from '../../support/listings';

/** The listings write surface of reference 000 on the real app and Postgres (no worker needed). */
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

const post = (body: unknown, key = org.secretKey, headers: Record<string, string> = {}) => api.request('POST', '/api/v1/listings', { key, body, headers });

describe('upsert by external_ref', () => {
  it('creates with 201, updates with 200 and never duplicates', async () => {
    const listing = completeListing();
    const created = await post(listing);
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      external_ref: listing.external_ref,
      status: 'draft',
      revision: 1,
      title: 'Bright 2-room apartment',
      living_area: 58,
      rent_cold: 980,
      country: 'DE',
      moderation: { state: 'pending', reasons: [] },
      publication: { state: 'unpublished', published_at: null },
      owner: { id: org.ownerUserId, email: expect.stringMatching(/^owner-/) },
      energy_certificate: listing.energy_certificate,
    });
    const updated = await post({ external_ref: listing.external_ref, rent_cold: 950 });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({ id: created.body.data.id, revision: 2, rent_cold: 950, title: listing.title });
    const rows = await ctx.deps.db('listings').where({ org_id: org.organization.id, external_ref: listing.external_ref });
    expect(rows).toHaveLength(1);
  });

  it('creates one listing from two concurrent upserts of one external_ref', async () => {
    const listing = completeListing();
    const [a, b] = await Promise.all([post(listing), post({ ...listing, rent_cold: 990 })]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.data.id).toBe(b.body.data.id);
    const rows = await ctx.deps.db('listings').where({ org_id: org.organization.id, external_ref: listing.external_ref });
    expect(rows).toHaveLength(1);
    expect(rows[0].revision).toBe(2);
    const events = await eventsOf(api, org.secretKey, rows[0].id);
    expect(events.map((event) => event.eventName)).toEqual(['listing.created', 'listing.updated']);
  });

  it('answers a create with exactly the listing a later GET reads, and replays that answer', async () => {
    // The create response is composed before its single-statement insert (src/listings/newListing.ts).
    const listing = completeListing({
      rent_cold: 980.5,
      rent_warm: 1210.05,
      service_charges: 229.55,
      deposit: 2941.5,
      rooms: 2.5,
      living_area: 58.25,
      floor: -1,
      available_from: '2027-02-01',
      country: 'at',
      marketing_type: 'rent',
    });
    const key = randomUUID();
    const created = await post(listing, org.secretKey, { 'Idempotency-Key': key });
    expect(created.status).toBe(201);
    const read = await api.request('GET', `/api/v1/listings/${created.body.data.id}`, { key: org.secretKey });
    expect(read.body.data).toEqual(created.body.data);
    expect(created.body.data).toMatchObject({ rent_cold: 980.5, rooms: 2.5, living_area: 58.25, country: 'AT', floor: -1 });

    const replay = await post(listing, org.secretKey, { 'Idempotency-Key': key });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(created.body);
  });

  it('rejects amounts and areas finer than the cent, naming each field', async () => {
    const response = await post(completeListing({ rent_cold: 980.999, living_area: 58.125 }));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.details.fields.map((field: { path: string }) => field.path).sort()).toEqual(['living_area', 'rent_cold']);
  });

  it('writes the event and the outbox row in the same transaction as the listing', async () => {
    const created = await post(completeListing());
    const id = created.body.data.id;
    const outbox = await ctx.deps.db('outbox').where({ workflow_id: `listing-publish:${id}:r1` }).first();
    expect(outbox).toMatchObject({ workflow_type: 'listingPublish', org_id: org.organization.id });
    expect(outbox.args[0]).toMatchObject({ listingId: id, revision: 1, action: 'set', addressChanged: true });
    const [event] = await eventsOf(api, org.secretKey, id);
    expect(event).toMatchObject({ eventName: 'listing.created', eventPayload: { listingId: id, externalRef: created.body.data.external_ref } });
    // The payload is the listing as GET returns it (reference 003), plus the ids.
    const { listingId, externalRef, ...listing } = event.eventPayload;
    expect({ listingId, externalRef }).toEqual({ listingId: id, externalRef: created.body.data.external_ref });
    expect(listing).toEqual(created.body.data);
  });

  it('tells in listing.updated which fields changed and what they were (changed_fields, previous_attributes)', async () => {
    const created = await post(completeListing({ rent_cold: 980, title: 'Before' }));
    const id = created.body.data.id;
    const patched = await api.request('PATCH', `/api/v1/listings/${id}`, { key: org.secretKey, body: { rent_cold: 1050, title: 'Before', city: 'Potsdam' } });
    expect(patched.status).toBe(200);
    const updated = (await eventsOf(api, org.secretKey, id)).find((event) => event.eventName === 'listing.updated');
    expect(updated?.eventPayload).toMatchObject({
      listingId: id,
      id,
      revision: 2,
      rent_cold: 1050,
      city: 'Potsdam',
      changed_fields: ['city', 'rent_cold'],
      previous_attributes: { city: 'Berlin', rent_cold: 980 },
    });
    expect(Object.keys(updated?.eventPayload.previous_attributes).sort()).toEqual(['city', 'rent_cold']);
  });
});

describe('owner_email', () => {
  it('assigns a member on create, ignores it on update, and rejects unknown and non-member addresses alike', async () => {
    const agent = `agent-${randomUUID().slice(0, 6)}@example.com`;
    await ctx.deps.identity.addMember(org.organization.id, agent, 'member');
    const listing = completeListing({ owner_email: agent.toUpperCase() });
    const created = await post(listing);
    expect(created.status).toBe(201);
    expect(created.body.data.owner.email).toBe(agent);

    const colleague = `colleague-${randomUUID().slice(0, 6)}@example.com`;
    await ctx.deps.identity.addMember(org.organization.id, colleague, 'admin');
    const updated = await post({ external_ref: listing.external_ref, owner_email: colleague, title: 'Renamed' });
    expect(updated.status).toBe(200);
    expect(updated.body.data.owner.email).toBe(agent);

    const viewer = `viewer-${randomUUID().slice(0, 6)}@example.com`;
    await ctx.deps.identity.addMember(org.organization.id, viewer, 'viewer');
    const outsider = await seedOrganization(ctx.deps);
    const outsiderEmail = (await ctx.deps.db('users').where({ id: outsider.ownerUserId }).first()).email;
    const answers = await Promise.all(
      [viewer, outsiderEmail, 'nobody-at-all@example.com'].map((email) => post(completeListing({ owner_email: email }))),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('FORBIDDEN');
    }
    expect(new Set(answers.map((answer) => answer.body.error.message)).size).toBe(1);
  });
});

describe('Idempotency-Key', () => {
  it('replays the stored response without executing again', async () => {
    const key = randomUUID();
    const listing = completeListing();
    const first = await post(listing, org.secretKey, { 'Idempotency-Key': key });
    const replay = await post(listing, org.secretKey, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(replay.body).toEqual(first.body);
    const row = await ctx.deps.db('listings').where({ id: first.body.data.id }).first();
    expect(row.revision).toBe(1);
  });

  it('answers 409 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    const key = randomUUID();
    const listing = completeListing();
    await post(listing, org.secretKey, { 'Idempotency-Key': key });
    const reused = await post({ ...listing, rent_cold: 1 }, org.secretKey, { 'Idempotency-Key': key });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('creates nothing for a used key with a body for another listing, even when both race', async () => {
    // The create claims its key inside its own statement; a key held by another request rolls
    // the whole statement back (listing, event, outbox row), so the second body never executes.
    const key = randomUUID();
    const first = completeListing();
    expect((await post(first, org.secretKey, { 'Idempotency-Key': key })).status).toBe(201);
    const other = completeListing();
    const reused = await post(other, org.secretKey, { 'Idempotency-Key': key });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await ctx.deps.db('listings').where({ org_id: org.organization.id, external_ref: other.external_ref })).toHaveLength(0);

    const racingKey = randomUUID();
    const bodies = Array.from({ length: 6 }, () => completeListing());
    const responses = await Promise.all(bodies.map((body) => post(body, org.secretKey, { 'Idempotency-Key': racingKey })));
    const executed = responses.filter((response) => response.status === 201);
    expect(executed).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 201)) {
      expect(response.status).toBe(409);
      expect(['IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_IN_USE']).toContain(response.body.error.code);
    }
    const rows = await ctx.deps.db('listings').where({ org_id: org.organization.id }).whereIn('external_ref', bodies.map((body) => body.external_ref));
    expect(rows.map((row) => row.id)).toEqual([executed[0].body.data.id]);
    const events = await ctx.deps.db('events').where({ org_id: org.organization.id, name: 'listing.created' }).whereRaw("payload->>'externalRef' = any(?)", [bodies.map((body) => body.external_ref)]);
    expect(events).toHaveLength(1);
  });

  it('replays an update under its key, and stores nothing for a request that failed validation', async () => {
    const listing = completeListing();
    await post(listing);
    const key = randomUUID();
    const update = { external_ref: listing.external_ref, rent_cold: 1010 };
    const first = await post(update, org.secretKey, { 'Idempotency-Key': key });
    const replay = await post(update, org.secretKey, { 'Idempotency-Key': key });
    expect(first.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect((await ctx.deps.db('listings').where({ id: first.body.data.id }).first()).revision).toBe(2);

    // Validation runs before the key is claimed: the corrected request may use the same key.
    const retryKey = randomUUID();
    const invalid = await post({ ...completeListing(), rent_cold: -5 }, org.secretKey, { 'Idempotency-Key': retryKey });
    expect(invalid.status).toBe(400);
    expect(await ctx.deps.db('idempotency_keys').where({ org_id: org.organization.id, key: retryKey })).toHaveLength(0);
  });

  it('executes 50 concurrent requests with one key exactly once', async () => {
    const key = randomUUID();
    const listing = completeListing();
    const responses = await Promise.all(Array.from({ length: 50 }, () => post(listing, org.secretKey, { 'Idempotency-Key': key })));
    const statuses = responses.map((response) => response.status);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    const executed = responses.filter((response) => response.status === 201 && response.headers.get('idempotent-replayed') !== 'true');
    expect(executed).toHaveLength(1);
    for (const response of responses.filter((r) => r.status === 409)) expect(response.body.error.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    const rows = await ctx.deps.db('listings').where({ org_id: org.organization.id, external_ref: listing.external_ref });
    expect(rows).toHaveLength(1);
    expect(rows[0].revision).toBe(1);
  });

  it('rejects a key that is not a UUID v4', async () => {
    const response = await post(completeListing(), org.secretKey, { 'Idempotency-Key': 'retry-1' });
    expect(response.status).toBe(400);
    expect(response.body.error.details.fields[0].path).toBe('Idempotency-Key');
  });
});

describe('validation', () => {
  it('lists every bad field with its path', async () => {
    const response = await post({
      external_ref: '',
      living_area: -3,
      rooms: 2.3,
      country: 'Germany',
      energy_certificate: { type: 'guess', energy_value: 100, main_energy_source: 'gas', year_of_construction: 1990, efficiency_class: 'Z' },
      colour: 'blue',
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    const paths = response.body.error.details.fields.map((field: { path: string }) => field.path).sort();
    expect(paths).toEqual(
      ['colour', 'country', 'energy_certificate.efficiency_class', 'energy_certificate.type', 'external_ref', 'living_area', 'rooms'].sort(),
    );
  });

  it('refuses to change external_ref with PATCH, naming the field', async () => {
    const created = await post(completeListing());
    const response = await api.request('PATCH', `/api/v1/listings/${created.body.data.id}`, { key: org.secretKey, body: { external_ref: 'OTHER' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.fields).toEqual([{ path: 'external_ref', message: expect.stringContaining('immutable') }]);
  });
});

describe('lifecycle', () => {
  it('follows the state machine and names an invalid transition', async () => {
    const created = await post(completeListing());
    const id = created.body.data.id;
    const patch = (body: unknown) => api.request('PATCH', `/api/v1/listings/${id}`, { key: org.secretKey, body });
    expect((await patch({ status: 'rented' })).body.error).toMatchObject({ code: 'INVALID_STATUS_TRANSITION', details: { from: 'draft', to: 'rented' } });
    const active = await patch({ status: 'active' });
    expect(active.status).toBe(200);
    expect(active.body.data).toMatchObject({ status: 'active', publication: { state: 'pending' } });
    expect((await patch({ status: 'rented' })).body.data.status).toBe('rented');
    expect((await patch({ status: 'archived' })).body.data.status).toBe('archived');
  });
});

describe('plan quota', () => {
  it('answers 403 FORBIDDEN naming the limit when a Free plan goes over 25 active listings', async () => {
    const free = await seedOrganization(ctx.deps, { plan: 'free' });
    for (let i = 0; i < 25; i += 1) {
      expect((await post(completeListing({ status: 'active' }), free.secretKey)).status).toBe(201);
    }
    const over = await post(completeListing({ status: 'active' }), free.secretKey);
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: 'FORBIDDEN', details: { limit: 25, plan: 'free' } });
    expect(over.body.error.message).toContain('25');
    // Drafts are not capped.
    expect((await post(completeListing(), free.secretKey)).status).toBe(201);
  });
});

describe('access', () => {
  it('hides another organisation’s listing: 404 on GET, PATCH and DELETE', async () => {
    const other = await seedOrganization(ctx.deps);
    const theirs = await post(completeListing(), other.secretKey);
    const id = theirs.body.data.id;
    for (const [method, body] of [['GET'], ['PATCH', { title: 'mine now' }], ['DELETE']] as const) {
      const response = await api.request(method, `/api/v1/listings/${id}`, { key: org.secretKey, body });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect((await ctx.deps.db('listings').where({ id }).first()).title).toBe('Bright 2-room apartment');
  });

  it('answers 404 while LISTINGS_WRITE_API_ENABLED is off', async () => {
    const dark = await seedOrganization(ctx.deps, { flags: [] });
    const response = await post(completeListing(), dark.secretKey);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 403 INSUFFICIENT_SCOPE to a publishable key and to a key without listings:write', async () => {
    expect((await post(completeListing(), org.publishableKey)).body.error.code).toBe('INSUFFICIENT_SCOPE');
    const reader = await ctx.deps.identity.createApiKey({ orgId: org.organization.id, kind: 'secret', mode: 'test', scopes: ['listings:read'] });
    const response = await post(completeListing(), reader.key);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('INSUFFICIENT_SCOPE');
  });

  it('needs listings:delete to delete, and emits listing.deleted', async () => {
    const created = await post(completeListing());
    const id = created.body.data.id;
    const writer = await ctx.deps.identity.createApiKey({ orgId: org.organization.id, kind: 'secret', mode: 'test', scopes: ['listings:write'] });
    expect((await api.request('DELETE', `/api/v1/listings/${id}`, { key: writer.key })).status).toBe(403);
    const deleted = await api.request('DELETE', `/api/v1/listings/${id}`, { key: org.secretKey });
    expect(deleted.status).toBe(200);
    expect((await api.request('GET', `/api/v1/listings/${id}`, { key: org.secretKey })).status).toBe(404);
    const events = await eventsOf(api, org.secretKey, id);
    expect(events.map((event) => event.eventName)).toEqual(['listing.created', 'listing.deleted']);
  });
});

describe('listing and event reads', () => {
  it('pages with a cursor and filters by status, external_ref and updated_since', async () => {
    const reader = await seedOrganization(ctx.deps);
    const refs: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const listing = completeListing({ status: i % 2 ? 'active' : 'draft' });
      refs.push(listing.external_ref);
      await post(listing, reader.secretKey);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await api.request('GET', `/api/v1/listings?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: reader.secretKey });
      expect(page.status).toBe(200);
      expect(page.body.pagination.limit).toBe(2);
      seen.push(...page.body.data.map((listing: { external_ref: string }) => listing.external_ref));
      cursor = page.body.pagination.next_cursor;
      expect(page.body.pagination.has_more).toBe(cursor !== null);
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(refs);
    expect(pages).toBe(3);

    const active = await api.request('GET', '/api/v1/listings?status=active', { key: reader.secretKey });
    expect(active.body.data.map((listing: { external_ref: string }) => listing.external_ref)).toEqual([refs[1], refs[3]]);
    const one = await api.request('GET', `/api/v1/listings?external_ref=${refs[2]}`, { key: reader.secretKey });
    expect(one.body.data).toHaveLength(1);
    const future = await api.request('GET', `/api/v1/listings?updated_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { key: reader.secretKey });
    expect(future.body.data).toEqual([]);
    const badCursor = await api.request('GET', '/api/v1/listings?cursor=nonsense', { key: reader.secretKey });
    expect(badCursor.status).toBe(400);

    const created = await api.request('GET', '/api/v1/events?name=listing.created&limit=3', { key: reader.secretKey });
    expect(created.body.data).toHaveLength(3);
    expect(created.body.data[0]).toMatchObject({ eventName: 'listing.created', eventId: expect.any(String), eventTime: expect.any(String) });
    expect(created.body.pagination.has_more).toBe(true);
  });

  it('documents ListingPublicDto in /openapi.json and serves a docs page', async () => {
    const doc = await api.request('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    const dto = doc.body.components.schemas.ListingPublicDto;
    for (const field of ['status', 'moderation', 'geo', 'owner', 'revision', 'created_at', 'updated_at']) expect(dto.properties[field]).toBeDefined();
    expect(doc.body.paths['/api/v1/listings'].post).toBeDefined();
    const page = await api.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/openapi.json');
  });

  it('documents the publication-target routes and the partner hook in /openapi.json', async () => {
    const doc = (await api.request('GET', '/openapi.json')).body;
    const operations = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(operations('/api/v1/targets')).toEqual(['get']);
    expect(operations('/api/v1/targets/{id}')).toEqual(['get']);
    expect(operations('/api/v1/targets/{id}/connect')).toEqual(['post']);
    expect(operations('/api/v1/targets/{id}/connection')).toEqual(['delete']);
    expect(operations('/partner-hooks/{targetId}')).toEqual(['post']);

    const connect = doc.paths['/api/v1/targets/{id}/connect'].post;
    expect(Object.keys(connect.responses)).toEqual(expect.arrayContaining(['201', '404', '502', '503']));
    expect(connect.responses['502'].description).toEqual(expect.stringContaining('TARGET_UNAVAILABLE'));
    expect(connect.responses['502'].description).toEqual(expect.stringContaining('TARGET_REFUSED'));
    expect(connect.responses['503'].description).toEqual(expect.stringContaining('TARGET_RATE_LIMITED'));
    expect(connect.responses['503'].headers['Retry-After']).toBeDefined();
    expect(connect.description).toEqual(expect.stringContaining('target.connected'));
    expect(doc.paths['/api/v1/targets/{id}/connection'].delete.description).toEqual(expect.stringContaining('target.disconnected'));

    const hook = doc.paths['/partner-hooks/{targetId}'].post;
    expect(hook.security).toEqual([]);
    expect(Object.keys(hook.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
    expect(doc.components.schemas.AgencyKeyDelivery.required).toEqual(expect.arrayContaining(['x-api-key', 'agencyId']));
    expect(doc.components.schemas.Target.properties.connection).toBeDefined();
    expect(doc.components.schemas.TargetConnectLink.properties.url).toBeDefined();
    expect(doc.components.schemas.Event.properties.eventName.enum).toEqual(expect.arrayContaining(['target.connected', 'target.disconnected']));
  });
});
