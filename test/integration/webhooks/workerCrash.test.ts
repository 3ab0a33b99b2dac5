import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { INTERRUPTED_TRY } from '../../../activities/webhooks';
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
  const second = await stack.startWorker();

  const delivered = await eventually(async () => {
    const deliveries = await ctx.deps.db('webhook_deliveries').where({ org_id: org.organization.id });
    return deliveries.length === 5 && deliveries.every((delivery) => delivery.status === 'succeeded') ? deliveries : undefined;
  }, 120_000);
  expect(delivered).toHaveLength(5);
  const succeeded = subscriber.received.filter((r) => r.path === path && r.body.eventName === 'listing.created');
  const receivedListings = new Set(succeeded.map((r) => r.body.eventPayload.listingId));
  expect([...receivedListings].sort()).toEqual([...listingIds].sort());
  // Every worker's relay claims from the one outbox: this one's config (its allow-list) must not
  // make the next test's first attempts.
  await second.kill('SIGTERM');
});

/**
 * A subscriber of its own, and a crash stack allowed to reach it, for `run`: it refuses requests
 * before number `holdRequest`, holds that one open until the test lets go (the worker is killed
 * meanwhile), and answers 200 after it. `seen` has each request's arrival.
 */
async function withHoldingSubscriber(
  holdRequest: number,
  env: Record<string, string>,
  run: (setup: { url: string; seen: number[]; stack: CrashTestStack; releaseHeld(): void }) => Promise<void>,
): Promise<void> {
  const seen: number[] = [];
  const held: http.ServerResponse[] = [];
  const subscriberOf = http.createServer((request, response) => {
    request.resume();
    seen.push(Date.now());
    if (seen.length < holdRequest) response.writeHead(500).end('down');
    else if (seen.length === holdRequest) held.push(response);
    else response.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => subscriberOf.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(subscriberOf.address() as AddressInfo).port}/hook`;
  const ownStack = await startCrashTestStack({ WEBHOOK_ALLOW_TARGETS: new URL(url).host, WEBHOOK_TIMEOUT: '20s', ...env });
  try {
    await run({ url, seen, stack: ownStack, releaseHeld: () => held.forEach((response) => response.destroy()) });
  } finally {
    await ownStack.close();
    await new Promise((resolve) => subscriberOf.close(resolve));
  }
}

/** Posts a listing whose delivery reaches request `holdRequest`, SIGKILLs the worker there, restarts it, and returns the succeeded delivery's attempts. */
async function attemptsAcrossAKill(holdRequest: number, retrySchedule: string) {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  let attempts: unknown[] = [];
  await withHoldingSubscriber(holdRequest, { WEBHOOK_RETRY_SCHEDULE: retrySchedule }, async ({ url, seen, stack: own, releaseHeld }) => {
    const created = await own.api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url, events: ['listing.created'] } });
    expect(created.status).toBe(201);
    const worker = await own.startWorker();
    await own.api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
    await eventually(async () => seen.length === holdRequest, 60_000);
    await worker.kill('SIGKILL');
    releaseHeld();
    // Temporal retries a killed activity's try once its start-to-close timeout (30 s) shows the
    // worker is gone; the relay's first attempt is retried when its claim runs out.
    await own.startWorker();
    const delivery = await eventually(async () => (await ctx.deps.db('webhook_deliveries').where({ org_id: org.organization.id, status: 'succeeded' }).first()), 120_000);
    const detail = await api.request('GET', `/api/v1/webhooks/${created.body.data.id}/deliveries/${delivery.id}`, { key: org.secretKey });
    expect(seen).toHaveLength(holdRequest + 1);
    expect(detail.body.data.attempt_count).toBe(holdRequest);
    attempts = detail.body.data.attempts;
  });
  return attempts;
}

it('logs the attempt a SIGKILL interrupted mid-request, so the log shows every request the subscriber got', async () => {
  expect(await attemptsAcrossAKill(1, '0s,1s')).toEqual([
    expect.objectContaining({ attempt_number: 1, status_code: null, error: INTERRUPTED_TRY }),
    expect.objectContaining({ attempt_number: 1, status_code: 200, error: null }),
  ]);
});

it('logs a retry a SIGKILL interrupted mid-request under its attempt, and retries it', async () => {
  expect(await attemptsAcrossAKill(2, '0s,1s,1s')).toEqual([
    expect.objectContaining({ attempt_number: 1, status_code: 500 }),
    expect.objectContaining({ attempt_number: 2, status_code: null, error: INTERRUPTED_TRY }),
    expect.objectContaining({ attempt_number: 2, status_code: 200, error: null }),
  ]);
});
