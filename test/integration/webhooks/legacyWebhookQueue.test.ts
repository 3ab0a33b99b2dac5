import { appendEvent } from '../../../src/events/service';
import { createOutboxStarter } from '../../../src/outbox/service';
import { taskQueues } from '../../../src/temporal/taskQueues';
import { webhookQueueHasWorkflows } from '../../../src/temporal/workerFactory';
import { TestApi, TestContext, createTestContext, eventually, seedOrganization, startTestApi } from '../../support/context';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { TestWorkers, startTestWorkers } from '../../support/workers';

/**
 * Delivery workflows moved from `<queue>-webhooks` to the main queue (their activities stayed).
 * A run an older release started on the old queue must still finish: a worker process that finds
 * one open, or owed a start there, polls that queue's workflow tasks too.
 */
jest.setTimeout(90_000);

let subscriber: FakeSubscriber;
let ctx: TestContext;
let api: TestApi;
let workers: TestWorkers | undefined;

beforeAll(async () => {
  subscriber = await startFakeSubscriber();
  ctx = await createTestContext({ WEBHOOK_ALLOW_TARGETS: subscriber.hostPort, WEBHOOK_RETRY_SCHEDULE: '0s,1s' });
  api = await startTestApi(ctx.deps);
});

afterAll(async () => {
  await workers?.stop();
  await api.close();
  await ctx.close();
  await subscriber.close();
});

it('finishes a delivery run begun on the webhooks queue, and stops needing that queue once none is left', async () => {
  const { db, config, logger, temporal } = ctx.deps;
  const client = await temporal.get();
  const oldQueue = taskQueues(config).webhooks;
  expect(await webhookQueueHasWorkflows(client, db, config)).toBe(false);

  const org = await seedOrganization(ctx.deps);
  const endpoint = subscriber.endpoint();
  const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: endpoint, events: ['listing.created'] } });
  expect(created.status).toBe(201);
  await db.transaction((trx) => appendEvent(trx, org.organization.id, 'listing.created', { listingId: 'l-legacy' }, config));
  const delivery = await db('webhook_deliveries').where({ org_id: org.organization.id }).first();
  const workflowId = `webhook-delivery:${delivery.id}`;
  // As the previous release owed it: on the old queue.
  expect(await db('outbox').where({ workflow_id: workflowId }).update({ task_queue: oldQueue })).toBe(1);
  expect(await webhookQueueHasWorkflows(client, db, config)).toBe(true);

  // Its relay started it there, and no worker has polled it since.
  await createOutboxStarter(db, temporal, logger).startOwed({ graceMs: 0, batchSize: 10, leaseSeconds: 30, taskQueues: [oldQueue] });
  expect(await db('outbox').where({ workflow_id: workflowId }).first()).toMatchObject({ status: 'started' });
  await eventually(() => webhookQueueHasWorkflows(client, db, config));

  workers = await startTestWorkers(ctx.deps);
  const handle = client.workflow.getHandle(workflowId);
  expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 1 });
  expect((await handle.describe()).taskQueue).toBe(oldQueue);
  expect(subscriber.received.filter((request) => request.path === new URL(endpoint).pathname)).toHaveLength(1);
  expect(await db('webhook_deliveries').where({ id: delivery.id }).first()).toMatchObject({ status: 'succeeded', attempt_count: 1 });

  // Closed: the next worker process needs no poller there.
  await eventually(async () => !(await webhookQueueHasWorkflows(client, db, config)));
});
