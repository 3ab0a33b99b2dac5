import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendEvent } from '../../../src/events/service';
import { eventually, seedOrganization } from '../../support/context';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * The relay's first attempts wait in one lane per subscription (src/webhooks/firstAttempts.ts). A
 * burst to a fast subscriber waits its turn and is still delivered by the relay, with no workflow;
 * a slow subscriber's backlog starts workflows once the relay's claim can no longer cover an
 * attempt, and never holds up the fast one. The retries of a refused burst wake no faster than the
 * webhooks worker may make attempts.
 */
jest.setTimeout(90_000);

const SLOW_ANSWER_MS = 4000;
const EVENTS = 3;
const RETRY_ATTEMPTS_PER_SECOND = 2;

let stack: TestStack;
let subscriber: http.Server;
let port: number;
/** When each request to a /refuse/… endpoint arrived, by path. */
const refused = new Map<string, number[]>();

beforeAll(async () => {
  subscriber = http.createServer((request, response) => {
    request.resume();
    if (request.url?.startsWith('/refuse/')) {
      refused.set(request.url, [...(refused.get(request.url) ?? []), Date.now()]);
      response.writeHead(500).end('down');
    } else if (request.url === '/slow') setTimeout(() => response.writeHead(200).end('ok'), SLOW_ANSWER_MS);
    else response.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => subscriber.listen(0, '127.0.0.1', resolve));
  port = (subscriber.address() as AddressInfo).port;
  // A 30 s claim less a 19 s timeout and 10 s to record: a first attempt may wait 1 s for its slot.
  stack = await startTestStack({
    WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${port}`,
    WEBHOOK_TIMEOUT: '19s',
    WEBHOOK_RETRY_SCHEDULE: '0s,1s',
    WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION: '1',
    WEBHOOK_RETRY_ATTEMPTS_PER_SECOND: String(RETRY_ATTEMPTS_PER_SECOND),
  });
});

afterAll(async () => {
  await stack.close();
  subscriber.closeAllConnections();
  await new Promise((resolve) => subscriber.close(resolve));
});

it('delivers a burst through its lane without workflows, and moves a slow lane backlog to workflows', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  const webhookIds: Record<string, string> = {};
  for (const name of ['fast', 'slow']) {
    const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: `http://127.0.0.1:${port}/${name}`, events: ['listing.created'] } });
    expect(created.status).toBe(201);
    webhookIds[name] = created.body.data.id;
  }
  // One transaction: the relay claims the whole burst in one pass.
  await ctx.deps.db.transaction(async (trx) => {
    for (let index = 0; index < EVENTS; index += 1) await appendEvent(trx, org.organization.id, 'listing.created', { listingId: randomUUID() }, ctx.deps.config);
  });

  const deliveries: { id: string; webhook_id: string; status: string }[] = await eventually(async () => {
    const rows = await ctx.deps.db('webhook_deliveries').where({ org_id: org.organization.id });
    return rows.length === 2 * EVENTS && rows.every((row) => row.status === 'succeeded') ? rows : undefined;
  }, 60_000);
  const outbox = await ctx.deps.db('outbox').whereIn('workflow_id', deliveries.map((delivery) => `webhook-delivery:${delivery.id}`));
  const statusesOf = (name: string) =>
    deliveries
      .filter((delivery) => delivery.webhook_id === webhookIds[name])
      .map((delivery) => outbox.find((row) => row.workflow_id === `webhook-delivery:${delivery.id}`)?.status)
      .sort();
  // One at a time, each fast delivery waited for the one before it and the relay still made it.
  expect(statusesOf('fast')).toEqual(['delivered', 'delivered', 'delivered']);
  // The slow lane made its first attempt; the two behind it outwaited the claim and became workflows.
  expect(statusesOf('slow')).toEqual(['delivered', 'started', 'started']);
  const attempts = await ctx.deps.db('delivery_attempts').whereIn('delivery_id', deliveries.map((delivery) => delivery.id));
  expect(attempts).toHaveLength(2 * EVENTS);
  expect(attempts.every((attempt) => attempt.status_code === 200 && attempt.attempt_number === 1)).toBe(true);
});

it('spaces the retries of a refused burst at the rate the webhooks worker makes attempts', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  const paths = Array.from({ length: 4 }, (_, index) => `/refuse/${index}`);
  for (const path of paths) {
    const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: `http://127.0.0.1:${port}${path}`, events: ['listing.created'] } });
    expect(created.status).toBe(201);
  }
  await ctx.deps.db.transaction((trx) => appendEvent(trx, org.organization.id, 'listing.created', { listingId: randomUUID() }, ctx.deps.config));

  // Every first attempt was refused within moments, all due again 1 s (± 20 %) later; each row
  // holds its attempt 2 until then (its claim deferred to the slot).
  const owed = await eventually(async () => {
    const rows = await ctx.deps.db('outbox').where({ org_id: org.organization.id, workflow_type: 'webhookDelivery' }).whereRaw("args->0 \\? 'firstAttempt'");
    return rows.length === paths.length ? rows : undefined;
  });
  for (const row of owed) expect(row.claimed_until?.getTime()).toBe(row.args[0].firstAttempt.nextAttemptAtMs);
  const slots = owed.map((row) => row.args[0].firstAttempt.nextAttemptAtMs as number).sort((a, b) => a - b);
  for (let index = 1; index < slots.length; index += 1) expect(slots[index] - slots[index - 1]).toBeGreaterThanOrEqual(1000 / RETRY_ATTEMPTS_PER_SECOND - 1);
  // Each delivery's next_attempt_at is its slot (attempt 2 is at least 0.8 s away yet), and no
  // attempt 2 came before the slots.
  const deliveries = await ctx.deps.db('webhook_deliveries').whereIn('id', owed.map((row) => row.args[0].deliveryId));
  expect(deliveries.map((delivery) => delivery.next_attempt_at?.getTime() as number).sort((a, b) => a - b)).toEqual(slots);
  const secondAttempts = await eventually(async () => (paths.every((path) => (refused.get(path) ?? []).length === 2) ? paths.map((path) => (refused.get(path) as number[])[1]) : undefined), 30_000);
  expect(Math.min(...secondAttempts)).toBeGreaterThanOrEqual(slots[0] - 50);
  expect(Math.max(...secondAttempts)).toBeGreaterThanOrEqual(slots.at(-1) as number - 50);
});
