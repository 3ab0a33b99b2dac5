import type { Db } from '../../../src/db/knex';
import { appendEvent, toEventDto } from '../../../src/events/service';
import { taskQueues } from '../../../src/temporal/taskQueues';
import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';
import { completeListing } from '../../support/listings';

/**
 * An event's webhook deliveries are created in the event's own transaction (no fan-out workflow):
 * they exist the moment the event commits, with their webhookDelivery starts owed in the outbox,
 * and a rolled-back write leaves neither. No worker runs here: nothing below depends on one.
 */
let ctx: TestContext;
let api: TestApi;

beforeAll(async () => {
  ctx = await createTestContext({ WEBHOOK_RETRY_SCHEDULE: '0s,3s,7s' });
  api = await startTestApi(ctx.deps);
});

afterAll(async () => {
  await api.close();
  await ctx.close();
});

async function subscribe(orgId: string, events: string[], extra: { active?: boolean; deleted_at?: Date } = {}): Promise<string> {
  const [row] = await ctx.deps.db('webhooks')
    .insert({ org_id: orgId, url: 'https://hooks.example.com/in', events, secret_ciphertext: 'v1:not-used-here', ...extra })
    .returning('id');
  return row.id;
}

/** Statements sent while `run` executes, BEGIN/COMMIT aside (knex's own query events, no mock). */
async function countingStatements<T>(run: () => Promise<T>): Promise<{ result: T; statements: number }> {
  let statements = 0;
  const listener = (query: { sql: string }) => {
    if (!/^(begin|commit|rollback)/i.test(query.sql.trim())) statements += 1;
  };
  ctx.deps.db.on('query', listener);
  try {
    return { result: await run(), statements };
  } finally {
    ctx.deps.db.removeListener('query', listener);
  }
}

it('creates one delivery per matching active subscription and owes its workflow, in the event’s transaction', async () => {
  const org = await seedOrganization(ctx.deps);
  const other = await seedOrganization(ctx.deps);
  const orgId = org.organization.id;
  const listingHook = await subscribe(orgId, ['listing.*']);
  const exactHook = await subscribe(orgId, ['listing.created', 'publication.failed']);
  const publicationHook = await subscribe(orgId, ['publication.*']);
  await subscribe(orgId, ['*'], { active: false });
  await subscribe(orgId, ['*'], { deleted_at: new Date() });
  await subscribe(other.organization.id, ['*']);

  const { result: [created, published], statements } = await countingStatements(() =>
    ctx.deps.db.transaction(async (trx: Db) => [
      await appendEvent(trx, orgId, 'listing.created', { listingId: 'l-1' }, ctx.deps.config),
      await appendEvent(trx, orgId, 'publication.succeeded', { listingId: 'l-1' }, ctx.deps.config),
    ]),
  );
  // Each event, its deliveries and their owed starts are one statement: one round trip per event.
  expect(statements).toBe(2);

  // Committed: read back outside the transaction.
  const deliveries = await ctx.deps.db('webhook_deliveries').where({ org_id: orgId }).orderBy('event_name');
  const pairs = deliveries.map((delivery) => [delivery.event_name, delivery.webhook_id]).sort();
  expect(pairs).toEqual(
    [
      ['listing.created', listingHook],
      ['listing.created', exactHook],
      ['publication.succeeded', publicationHook],
    ].sort(),
  );
  expect(await ctx.deps.db('webhook_deliveries').where({ org_id: other.organization.id })).toHaveLength(0);
  for (const delivery of deliveries) {
    const event = delivery.event_name === 'listing.created' ? created : published;
    expect(delivery).toMatchObject({ event_id: event.event_id, status: 'pending', attempt_count: 0, redelivery_of: null });
    expect(delivery.envelope).toEqual(toEventDto(event));
  }

  const outbox = await ctx.deps.db('outbox').where({ org_id: orgId }).orderBy('workflow_id');
  expect(outbox.map((row) => row.workflow_id).sort()).toEqual(deliveries.map((delivery) => `webhook-delivery:${delivery.id}`).sort());
  for (const row of outbox) {
    const delivery = deliveries.find((candidate) => row.workflow_id === `webhook-delivery:${candidate.id}`);
    expect(row).toMatchObject({ workflow_type: 'webhookDelivery', task_queue: taskQueues(ctx.deps.config).main, status: 'pending' });
    expect(row.args).toEqual([{ orgId, webhookId: delivery.webhook_id, deliveryId: delivery.id, retrySchedule: '0s,3s,7s' }]);
    expect(row.search_attributes).toEqual({ OrgId: [orgId], WebhookId: [delivery.webhook_id], EventName: [delivery.event_name] });
  }
});

it('leaves neither deliveries nor owed starts when the write rolls back', async () => {
  const org = await seedOrganization(ctx.deps);
  const orgId = org.organization.id;
  await subscribe(orgId, ['*']);
  await expect(
    ctx.deps.db.transaction(async (trx: Db) => {
      await appendEvent(trx, orgId, 'listing.updated', { listingId: 'l-2' }, ctx.deps.config);
      throw new Error('the write failed after its event');
    }),
  ).rejects.toThrow('the write failed');
  expect(await ctx.deps.db('events').where({ org_id: orgId })).toHaveLength(0);
  expect(await ctx.deps.db('webhook_deliveries').where({ org_id: orgId })).toHaveLength(0);
  expect(await ctx.deps.db('outbox').where({ org_id: orgId })).toHaveLength(0);
});

it('owes nothing for an event no active subscription matches', async () => {
  const org = await seedOrganization(ctx.deps);
  const orgId = org.organization.id;
  await subscribe(orgId, ['publication.*']);
  await ctx.deps.db.transaction((trx: Db) => appendEvent(trx, orgId, 'listing.deleted', { listingId: 'l-3' }, ctx.deps.config));
  expect(await ctx.deps.db('events').where({ org_id: orgId })).toHaveLength(1);
  expect(await ctx.deps.db('webhook_deliveries').where({ org_id: orgId })).toHaveLength(0);
  expect(await ctx.deps.db('outbox').where({ org_id: orgId })).toHaveLength(0);
});

it('has the delivery of a listing write committed by the time the API answers', async () => {
  const org = await seedOrganization(ctx.deps);
  const orgId = org.organization.id;
  const hook = await subscribe(orgId, ['listing.created']);
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
  expect(created.status).toBe(201);
  const [event] = await ctx.deps.db('events').where({ org_id: orgId, name: 'listing.created' });
  expect(event.payload.listingId).toBe(created.body.data.id);
  const [delivery] = await ctx.deps.db('webhook_deliveries').where({ org_id: orgId });
  expect(delivery).toMatchObject({ webhook_id: hook, event_id: event.event_id, event_name: 'listing.created' });
  const owed = await ctx.deps.db('outbox').where({ org_id: orgId }).orderBy('workflow_type');
  expect(owed.map((row) => row.workflow_type)).toEqual(['listingPublish', 'webhookDelivery']);
  expect(owed[1].workflow_id).toBe(`webhook-delivery:${delivery.id}`);
});
