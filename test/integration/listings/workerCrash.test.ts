import { eventually, seedOrganization } from '../../support/context';
import { FakeNominatim, startFakeNominatim } from '../../support/fakeNominatim';
import { completeListing, eventsOf } from '../../support/listings';
import { CrashTestStack, startCrashTestStack } from '../../support/workerProcess';

/**
 * A worker killed with SIGKILL in the middle of the pipeline (its geocoding activity in flight):
 * after a restart the workflow resumes from history, and the listing ends published exactly once.
 */
jest.setTimeout(180_000);

let geocoder: FakeNominatim;
let stack: CrashTestStack;

beforeAll(async () => {
  geocoder = await startFakeNominatim();
  stack = await startCrashTestStack({ GEOCODER_URL: geocoder.url });
});

afterAll(async () => {
  await stack.close();
  await geocoder.close();
});

it('resumes after SIGKILL and publishes with exactly one listing.published event', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  const first = await stack.startWorker();

  geocoder.hold();
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active' }) });
  expect(created.status).toBe(201);
  const id = created.body.data.id;
  // The pipeline has moderated and is now waiting on the geocoder.
  await eventually(async () => geocoder.requests.length > 0, 60_000);
  await first.kill('SIGKILL');
  expect(first.child.signalCode).toBe('SIGKILL');
  geocoder.release();
  expect((await ctx.deps.db('listings').where({ id }).first()).publication_state).toBe('pending');

  await stack.startWorker();
  const listing = await eventually(async () => {
    const row = await ctx.deps.db('listings').where({ id }).first();
    return row.publication_state === 'published' ? row : undefined;
  }, 120_000);
  expect(listing.geo_precision).toBe('rooftop');
  expect(geocoder.requests.length).toBeGreaterThanOrEqual(2);

  const events = await eventsOf(api, org.secretKey, id);
  expect(events.filter((event) => event.eventName === 'listing.published')).toHaveLength(1);
  expect(events.filter((event) => event.eventName === 'listing.moderated')).toHaveLength(1);

  const client = await ctx.deps.temporal.get();
  const description = await client.workflow.getHandle(`listing-publish:${id}:r1`).describe();
  expect(description.status.name).toBe('COMPLETED');
});
