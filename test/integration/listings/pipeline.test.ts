import { runCli } from '../../../src/cli/run';
import { TestApi, TestContext, eventually, seedOrganization } from '../../support/context';
import { FakeNominatim, startFakeNominatim } from '../../support/fakeNominatim';
import { completeListing, eventsOf } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

/** The publish pipeline end to end: API → outbox → listingPublish on Temporal → Postgres. */
let geocoder: FakeNominatim;
let stack: TestStack;
let ctx: TestContext;
let api: TestApi;
let org: Awaited<ReturnType<typeof seedOrganization>>;

beforeAll(async () => {
  geocoder = await startFakeNominatim();
  stack = await startTestStack({ GEOCODER_URL: geocoder.url, GEOCODER_MAX_REQUESTS_PER_SECOND: '50', MODERATION_PROHIBITED_WORDS: 'provisionsfrei' });
  ({ ctx, api } = stack);
  org = await seedOrganization(ctx.deps);
});

afterAll(async () => {
  await stack.close();
  await geocoder.close();
});

const getListing = async (id: string) => (await api.request('GET', `/api/v1/listings/${id}`, { key: org.secretKey })).body.data;
const untilModerated = (id: string, revision: number) =>
  eventually(async () => {
    const listing = await getListing(id);
    return listing.moderation.revision === revision && listing.moderation.state !== 'pending' ? listing : undefined;
  });

it('publishes an approved active listing with coordinates and the events of reference 003', async () => {
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active' }) });
  expect(created.status).toBe(201);
  const listing = await untilModerated(created.body.data.id, 1);
  expect(listing).toMatchObject({
    moderation: { state: 'approved', reasons: [] },
    publication: { state: 'published', published_at: expect.any(String) },
    geo: { lat: 52.5321, lng: 13.3849, precision: 'rooftop' },
  });
  const events = await eventsOf(api, org.secretKey, listing.id);
  // No target is connected, so no publication.* event (test/integration/targets covers those).
  expect(events.map((event) => event.eventName)).toEqual(['listing.created', 'listing.moderated', 'listing.published']);
  expect(events[2].eventPayload).toMatchObject({ listingId: listing.id, externalRef: listing.external_ref, revision: 1, status: 'active' });
  // listing.* events carry the listing as GET returns it, at the moment of the event.
  expect(events[2].eventPayload).toMatchObject({ id: listing.id, moderation: { state: 'approved' }, publication: { state: 'published' }, images: [], attachments: [] });
  const request = geocoder.requests.at(-1)!;
  expect(request.path).toBe('/search');
  expect(request.userAgent).toContain('Immoflow');
});

it('geocodes again only when the address changes', async () => {
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active', house_number: '7a' }) });
  const id = created.body.data.id;
  await untilModerated(id, 1);
  const afterCreate = geocoder.requests.length;

  await api.request('PATCH', `/api/v1/listings/${id}`, { key: org.secretKey, body: { rent_cold: 1010 } });
  await untilModerated(id, 2);
  expect(geocoder.requests.length).toBe(afterCreate);

  await api.request('PATCH', `/api/v1/listings/${id}`, { key: org.secretKey, body: { street: 'Invalidenstraße', house_number: '44' } });
  const moved = await untilModerated(id, 3);
  expect(geocoder.requests.length).toBe(afterCreate + 1);
  expect(moved.geo).not.toBeNull();
  // Still published, and listing.published only once.
  const events = await eventsOf(api, org.secretKey, id);
  expect(events.filter((event) => event.eventName === 'listing.published')).toHaveLength(1);
});

it('rejects activation without the GEG §87 energy certificate and says why in listing.moderated', async () => {
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active', energy_certificate: null }) });
  const listing = await untilModerated(created.body.data.id, 1);
  expect(listing.moderation.state).toBe('rejected');
  expect(listing.publication.state).toBe('rejected');
  expect(listing.moderation.reasons).toEqual(
    expect.arrayContaining([expect.objectContaining({ code: 'MISSING_ENERGY_CERTIFICATE', field: 'energy_certificate', severity: 'reject' })]),
  );
  const events = await eventsOf(api, org.secretKey, listing.id);
  const moderated = events.find((event) => event.eventName === 'listing.moderated');
  expect(moderated?.eventPayload).toMatchObject({
    outcome: 'rejected',
    reasons: expect.arrayContaining([expect.objectContaining({ code: 'MISSING_ENERGY_CERTIFICATE', message: expect.stringContaining('energy certificate') })]),
  });
  expect(events.some((event) => event.eventName === 'listing.published')).toBe(false);
});

it('rejects a prohibited word', async () => {
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active', title: 'Provisionsfrei: Altbau' }) });
  const listing = await untilModerated(created.body.data.id, 1);
  expect(listing.moderation.reasons.map((reason: { code: string }) => reason.code)).toContain('PROHIBITED_WORD');
});

it('waits for an operator on needs_review and publishes after an approval through the CLI', async () => {
  const body = completeListing({ status: 'active', description: 'Call us at 030 1234567 for a viewing.' });
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body });
  const waiting = await untilModerated(created.body.data.id, 1);
  expect(waiting.moderation.state).toBe('needs_review');
  expect(waiting.publication.state).toBe('needs_review');
  expect(waiting.moderation.reasons[0]).toMatchObject({ code: 'CONTACT_DATA_IN_TEXT', field: 'description' });

  let stdout = '';
  const code = await runCli(['listing', 'review', waiting.id, '--approve', '--reason', 'Agency office number, allowed', '--json'], ctx.deps, {
    json: false,
    write: (text) => (stdout += text),
    error: (text) => (stdout += text),
  });
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ outcome: 'approved', publicationState: 'published' });

  const published = await getListing(waiting.id);
  expect(published.publication.state).toBe('published');
  expect(published.moderation.reasons.map((reason: { code: string }) => reason.code)).toEqual(['CONTACT_DATA_IN_TEXT', 'OPERATOR_APPROVED']);
  const names = (await eventsOf(api, org.secretKey, waiting.id)).map((event) => event.eventName);
  expect(names).toEqual(['listing.created', 'listing.moderated', 'listing.moderated', 'listing.published']);

  // A second decision is refused (exit 1, a failure, not a usage error): the revision no longer waits.
  const again = await runCli(['listing', 'review', waiting.id, '--reject', '--reason', 'too late'], ctx.deps, { json: false, write: () => undefined, error: () => undefined });
  expect(again).toBe(1);
});

it('unpublishes a listing when it is rented and when it is deleted', async () => {
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active' }) });
  const id = created.body.data.id;
  await untilModerated(id, 1);
  await api.request('PATCH', `/api/v1/listings/${id}`, { key: org.secretKey, body: { status: 'rented' } });
  const rented = await untilModerated(id, 2);
  expect(rented.publication.state).toBe('unpublished');

  const second = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active' }) });
  await untilModerated(second.body.data.id, 1);
  await api.request('DELETE', `/api/v1/listings/${second.body.data.id}`, { key: org.secretKey });
  await eventually(async () => (await ctx.deps.db('listings').where({ id: second.body.data.id }).first()).publication_state === 'unpublished');
  const deletedEvents = await eventsOf(api, org.secretKey, second.body.data.id);
  expect(deletedEvents.map((event) => event.eventName)).toEqual(['listing.created', 'listing.moderated', 'listing.published', 'listing.deleted']);
});

it('applies a pipeline result only at its own revision: a superseded run writes nothing', async () => {
  geocoder.hold();
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active', house_number: '99b' }) });
  const id = created.body.data.id;
  const before = geocoder.requests.length;
  // Revision 1's pipeline is now waiting on the geocoder…
  await eventually(async () => geocoder.requests.length > before);
  // …while the CRM writes revision 2 (a new address, so it geocodes too).
  await api.request('PATCH', `/api/v1/listings/${id}`, { key: org.secretKey, body: { house_number: '99c', rent_cold: 1001 } });
  geocoder.release();

  const client = await ctx.deps.temporal.get();
  const first = await client.workflow.getHandle(`listing-publish:${id}:r1`).result();
  expect(first).toEqual({ outcome: 'superseded' });
  const listing = await untilModerated(id, 2);
  expect(listing).toMatchObject({ revision: 2, rent_cold: 1001, moderation: { revision: 2, state: 'approved' }, publication: { state: 'published' } });
  const moderated = (await eventsOf(api, org.secretKey, id)).filter((event) => event.eventName === 'listing.moderated');
  expect(moderated.map((event) => event.eventPayload.revision)).toEqual([2]);
});

it('ends the wait of a revision under review when a newer revision is written', async () => {
  const created = await api.request('POST', '/api/v1/listings', {
    key: org.secretKey,
    body: completeListing({ status: 'active', description: 'Viewings: call 0171 2345678.' }),
  });
  const id = created.body.data.id;
  expect((await untilModerated(id, 1)).moderation.state).toBe('needs_review');

  // The CRM fixes the text; revision 1's run must not keep waiting for an operator.
  await api.request('PATCH', `/api/v1/listings/${id}`, { key: org.secretKey, body: { description: 'Viewings by appointment.' } });
  const client = await ctx.deps.temporal.get();
  expect(await client.workflow.getHandle(`listing-publish:${id}:r1`).result()).toEqual({ outcome: 'superseded' });
  const fixed = await untilModerated(id, 2);
  expect(fixed).toMatchObject({ moderation: { state: 'approved' }, publication: { state: 'published' } });
});
