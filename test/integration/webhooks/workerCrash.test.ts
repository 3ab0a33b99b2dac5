import { eventually, seedOrganization } from '../../support/context';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { completeListing } from '../../support/listings';
import { CrashTestStack, startCrashTestStack } from '../../support/workerProcess';

/**
 * While the subscriber is down, the worker is killed with SIGKILL and restarted; every event still
 * arrives once the subscriber is back: deliveries are durable timers in Temporal, not memory.
 */
jest.setTimeout(180_000);

let subscriber: FakeSubscriber;
let stack: CrashTestStack;

beforeAll(async () => {
  subscriber = await startFakeSubscriber();
  stack = await startCrashTestStack({ WEBHOOK_ALLOW_TARGETS: subscriber.hostPort, WEBHOOK_RETRY_SCHEDULE: '0s,1s,2s,2s,2s,2s,2s,2s,2s,2s' });
});

afterAll(async () => {
  await stack.close();
  await subscriber.close();
});

it('loses no event across a SIGKILL of the worker while the subscriber is down', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  const url = subscriber.endpoint();
  subscriber.script(url, [], 503);
  const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url, events: ['listing.created'] } });
  expect(created.status).toBe(201);
  const path = new URL(url).pathname;

  const first = await stack.startWorker();
  const listingIds: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
    listingIds.push(response.body.data.id);
  }
  // Every event has been tried at least once against the dead subscriber…
  await eventually(async () => new Set(subscriber.received.filter((r) => r.path === path).map((r) => r.body.eventId)).size === 5, 60_000);
  // …then the worker dies hard, and the subscriber comes back while no worker runs.
  await first.kill('SIGKILL');
  subscriber.script(url, [], 200);
  await stack.startWorker();

  const delivered = await eventually(async () => {
    const deliveries = await ctx.deps.db('webhook_deliveries').where({ org_id: org.organization.id });
    return deliveries.length === 5 && deliveries.every((delivery) => delivery.status === 'succeeded') ? deliveries : undefined;
  }, 120_000);
  expect(delivered).toHaveLength(5);
  const succeeded = subscriber.received.filter((r) => r.path === path && r.body.eventName === 'listing.created');
  const receivedListings = new Set(succeeded.map((r) => r.body.eventPayload.listingId));
  expect([...receivedListings].sort()).toEqual([...listingIds].sort());
});
