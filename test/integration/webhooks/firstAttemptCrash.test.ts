import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { INTERRUPTED_TRY } from '../../../activities/webhooks';
import { eventually, seedOrganization } from '../../support/context';
import { completeListing } from '../../support/listings';
import { CrashTestStack, startCrashTestStack } from '../../support/workerProcess';

/**
 * The outbox relay makes each delivery's first attempt itself (src/webhooks/firstAttempts.ts). A
 * SIGKILL in the middle of a fan-out's first attempts may make a subscriber see an event id again,
 * but never without a retry in the attempt log, and every delivery still succeeds exactly once.
 */
jest.setTimeout(240_000);

const SUBSCRIPTIONS = 10;
const LISTINGS = 5;
const ANSWER_AFTER_MS = 1500;

let stack: CrashTestStack;
let subscriber: http.Server;
let port: number;
/** `path webhook-id` → how many requests the subscriber received. */
const received = new Map<string, number>();

beforeAll(async () => {
  // A slow subscriber: every request is answered 200 after ANSWER_AFTER_MS, so a SIGKILL finds some in flight.
  subscriber = http.createServer((request, response) => {
    request.resume();
    const key = `${new URL(request.url ?? '/', 'http://subscriber').pathname} ${request.headers['webhook-id']}`;
    received.set(key, (received.get(key) ?? 0) + 1);
    setTimeout(() => response.writeHead(200).end('ok'), ANSWER_AFTER_MS);
  });
  await new Promise<void>((resolve) => subscriber.listen(0, '127.0.0.1', resolve));
  port = (subscriber.address() as AddressInfo).port;
  stack = await startCrashTestStack({ WEBHOOK_ALLOW_TARGETS: `127.0.0.1:${port}`, WEBHOOK_TIMEOUT: '5s', WEBHOOK_RETRY_SCHEDULE: '0s,1s,2s' });
});

afterAll(async () => {
  await stack.close();
  subscriber.closeAllConnections();
  await new Promise((resolve) => subscriber.close(resolve));
});

it('counts every delivery succeeded once and every repeated event id as a logged retry after a SIGKILL mid-fan-out', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  for (let index = 0; index < SUBSCRIPTIONS; index += 1) {
    const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: `http://127.0.0.1:${port}/hooks/${index}`, events: ['listing.created'] } });
    expect(created.status).toBe(201);
  }
  const worker = await stack.startWorker();
  for (let index = 0; index < LISTINGS; index += 1) {
    expect((await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() })).status).toBe(201);
  }
  const total = SUBSCRIPTIONS * LISTINGS;
  // Kill while first attempts are in flight: some requests seen, not every answer recorded.
  await eventually(async () => received.size >= SUBSCRIPTIONS, 60_000, 20);
  await worker.kill('SIGKILL');
  await stack.startWorker();

  const deliveries: { id: string; status: string; event_id: string; webhook_id: string }[] = await eventually(async () => {
    const rows = await ctx.deps.db('webhook_deliveries').where({ org_id: org.organization.id });
    return rows.length === total && rows.every((row) => row.status === 'succeeded') ? rows : undefined;
  }, 180_000);
  expect(deliveries).toHaveLength(total);

  const webhooks = await ctx.deps.db('webhooks').where({ org_id: org.organization.id }).select('id', 'url');
  const pathOf = new Map(webhooks.map((webhook) => [webhook.id, new URL(webhook.url).pathname]));
  const attempts = await ctx.deps
    .db('delivery_attempts')
    .whereIn(
      'delivery_id',
      deliveries.map((delivery) => delivery.id),
    )
    .select('delivery_id', 'attempt_number', 'try_number', 'status_code', 'error');
  let interrupted = 0;
  for (const delivery of deliveries) {
    const logged = attempts.filter((attempt) => attempt.delivery_id === delivery.id);
    expect(logged.filter((attempt) => attempt.status_code === 200)).toHaveLength(1);
    interrupted += logged.filter((attempt) => attempt.error === INTERRUPTED_TRY).length;
    const seen = received.get(`${pathOf.get(delivery.webhook_id)} ${delivery.event_id}`) ?? 0;
    expect(seen).toBeGreaterThanOrEqual(1);
    // A subscriber never sees an event id more often than the log has tries for it.
    expect(logged.length).toBeGreaterThanOrEqual(seen);
  }
  // The kill did interrupt first attempts, and the deliveries that were not interrupted ran no workflow.
  expect(interrupted).toBeGreaterThan(0);
  const outbox = await ctx.deps.db('outbox').where({ org_id: org.organization.id, workflow_type: 'webhookDelivery' }).select('status', 'direct_tries');
  expect(outbox).toHaveLength(total);
  expect(outbox.filter((row) => row.status === 'delivered').length).toBeGreaterThan(0);
  expect(outbox.every((row) => row.status !== 'pending')).toBe(true);
});
