import crypto from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { TestApi, TestContext, eventually, seedOrganization } from '../../support/context';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { SmtpSink, startSmtpSink } from '../../support/smtpSink';
import { TestStack, startTestStack } from '../../support/workers';
import { createDeliveryAttempts } from '../../../src/webhooks/attempts';

/**
 * A subscription's circuit (src/webhooks/circuit.ts): after WEBHOOK_CIRCUIT_THRESHOLD failed
 * attempts in a row one delivery probes, the others wait in Postgres without an attempt or a
 * Temporal run of their own, and the probe's answer decides for all of them.
 */
jest.setTimeout(120_000);

const THRESHOLD = 3;
const DELIVERIES = 10;

let subscriber: FakeSubscriber;
let smtp: SmtpSink;
let stack: TestStack;
let ctx: TestContext;
let api: TestApi;

beforeAll(async () => {
  subscriber = await startFakeSubscriber();
  smtp = await startSmtpSink();
  stack = await startTestStack({
    WEBHOOK_ALLOW_TARGETS: subscriber.hostPort,
    // Eight retries a second apart: the probe is still retrying when the first test heals the endpoint.
    WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s,1s,1s,1s,1s,1s,1s',
    WEBHOOK_CIRCUIT_THRESHOLD: String(THRESHOLD),
    // Open at the threshold itself, however quickly the failures came.
    WEBHOOK_CIRCUIT_OPEN_AFTER: '0s',
    WEBHOOK_FAILURE_THRESHOLD: '100',
    // One first attempt at a time per subscription, so the circuit opens at a known delivery.
    WEBHOOK_FIRST_ATTEMPT_PER_SUBSCRIPTION: '1',
    SMTP_URL: smtp.url,
  });
  ({ ctx, api } = stack);
});

afterAll(async () => {
  await stack.close();
  await subscriber.close();
  await smtp.close();
});

/** A subscription on a fresh endpoint answering 503, and `DELIVERIES` test deliveries to it, in order. */
async function failingSubscriptionWithDeliveries() {
  const org = await seedOrganization(ctx.deps);
  const url = subscriber.endpoint();
  subscriber.script(url, [], 503);
  const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url, events: ['listing.*'] } });
  expect(created.status).toBe(201);
  const webhookId: string = created.body.data.id;
  const deliveryIds: string[] = [];
  for (let index = 0; index < DELIVERIES; index += 1) {
    const test = await api.request('POST', `/api/v1/webhooks/${webhookId}/test`, { key: org.secretKey });
    expect(test.status).toBe(202);
    deliveryIds.push(test.body.delivery_id);
  }
  const path = new URL(url).pathname;
  return { org, url, path, webhookId, deliveryIds };
}

const deliveriesOf = (webhookId: string) => ctx.deps.db('webhook_deliveries').where({ webhook_id: webhookId }).orderBy('created_at');

/** Waits until every delivery but the probe is parked, and returns the probe's id. */
async function parkedBehindOneProbe(webhookId: string): Promise<string> {
  return eventually(async () => {
    const webhook = await ctx.deps.db('webhooks').where({ id: webhookId }).first();
    const parked = (await deliveriesOf(webhookId)).filter((row) => row.parked_at !== null);
    return webhook.probe_delivery_id && parked.length === DELIVERIES - 1 ? (webhook.probe_delivery_id as string) : undefined;
  });
}

it('parks every delivery but one probe once the threshold of attempts failed, and delivers each once the endpoint answers', async () => {
  const { path, url, webhookId, deliveryIds } = await failingSubscriptionWithDeliveries();
  const probe = await parkedBehindOneProbe(webhookId);
  const rows = await deliveriesOf(webhookId);
  // The circuit opened at the third failed attempt; later deliveries were never attempted.
  const neverAttempted = rows.filter((row) => row.attempt_count === 0).map((row) => row.id);
  expect(neverAttempted.length).toBeGreaterThanOrEqual(DELIVERIES - THRESHOLD);
  const eventIdOf = new Map(rows.map((row) => [row.id, row.event_id as string]));
  const postsBefore = subscriber.received.filter((request) => request.path === path).length;
  // While parked, only the probe is attempted: its retries are the only POSTs.
  await eventually(async () => (await ctx.deps.db('webhook_deliveries').where({ id: probe }).first()).attempt_count >= 3);
  const postsWhileParked = subscriber.received.filter((request) => request.path === path).slice(postsBefore);
  expect(new Set(postsWhileParked.map((request) => request.body.eventId))).toEqual(new Set([eventIdOf.get(probe)]));
  // A parked delivery the relay never attempted has no run in Temporal.
  const temporal = await ctx.deps.temporal.get();
  await expect(temporal.workflow.getHandle(`webhook-delivery:${neverAttempted.find((id) => id !== probe)}`).describe()).rejects.toThrow(WorkflowNotFoundError);

  subscriber.script(url, [], 200);
  const settled = await eventually(async () => {
    const all = await deliveriesOf(webhookId);
    return all.every((row) => row.status === 'succeeded') ? all : undefined;
  }, 60_000);
  expect(settled.map((row) => row.id).sort()).toEqual([...deliveryIds].sort());
  expect(settled.every((row) => row.parked_at === null)).toBe(true);
  const webhook = await ctx.deps.db('webhooks').where({ id: webhookId }).first();
  expect(webhook).toMatchObject({ active: true, failed_attempts_in_a_row: 0, probe_delivery_id: null });
  // Every never-attempted delivery reached the subscriber exactly once, with its own event id.
  const posts = subscriber.received.filter((request) => request.path === path);
  for (const id of neverAttempted) expect({ id, posts: posts.filter((request) => request.body.eventId === eventIdOf.get(id)).length }).toEqual({ id, posts: 1 });
  // And the attempt log has exactly one success per delivery.
  const successes = await ctx.deps.db('delivery_attempts').whereIn('delivery_id', deliveryIds).whereBetween('status_code', [200, 299]);
  expect(successes.map((attempt) => attempt.delivery_id).sort()).toEqual([...deliveryIds].sort());
});

it('disables the subscription when its probe fails every retry, and fails the parked deliveries without attempting them', async () => {
  const { path, webhookId, deliveryIds } = await failingSubscriptionWithDeliveries();
  const probe = await parkedBehindOneProbe(webhookId);
  const disabled = await eventually(async () => {
    const webhook = await ctx.deps.db('webhooks').where({ id: webhookId }).first();
    return webhook.active ? undefined : webhook;
  }, 60_000);
  expect(disabled.disabled_reason).toContain(probe);
  const mail = await eventually(async () => smtp.messages.find((message) => message.text?.includes(webhookId)));
  expect(mail.text).toContain(probe);
  const ended = await eventually(async () => {
    const all = await deliveriesOf(webhookId);
    return all.every((row) => row.status === 'failed') ? all : undefined;
  });
  expect(ended.map((row) => row.id).sort()).toEqual([...deliveryIds].sort());
  expect(ended.find((row) => row.id === probe)?.attempt_count).toBe(9);
  // Nothing but the probe was attempted after the circuit opened: the others made only the
  // failed attempts that opened it, and the disabled subscription was not called again.
  const attemptsOfOthers = ended.filter((row) => row.id !== probe).reduce((sum, row) => sum + row.attempt_count, 0);
  expect(attemptsOfOthers).toBeLessThan(THRESHOLD);
  expect(subscriber.received.filter((request) => request.path === path)).toHaveLength(9 + attemptsOfOthers);
});

it('releases parked deliveries when the subscription is re-enabled through the API', async () => {
  const { org, url, webhookId, deliveryIds } = await failingSubscriptionWithDeliveries();
  await parkedBehindOneProbe(webhookId);
  subscriber.script(url, [], 200);
  const patched = await api.request('PATCH', `/api/v1/webhooks/${webhookId}`, { key: org.secretKey, body: { active: true } });
  expect(patched.status).toBe(200);
  const settled = await eventually(async () => {
    const all = await deliveriesOf(webhookId);
    return all.every((row) => row.status === 'succeeded') ? all : undefined;
  }, 60_000);
  expect(settled).toHaveLength(deliveryIds.length);
});

it('parks the delivery whose failure comes after the one that opened the circuit, instead of scheduling its retry', async () => {
  const org = await seedOrganization(ctx.deps);
  const url = subscriber.endpoint();
  subscriber.script(url, [], 503);
  const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url, events: ['listing.*'] } });
  const webhookId: string = created.body.data.id;
  // One failure short of opening, and two deliveries that no worker owns (no outbox row), whose
  // attempts both read the circuit closed and both fail.
  await ctx.deps.db('webhooks').where({ id: webhookId }).update({ failed_attempts_in_a_row: THRESHOLD - 1, failing_since: new Date(Date.now() - 60_000) });
  const envelope = { eventId: 'e', eventName: 'webhook.test', eventPayload: {}, eventTime: new Date().toISOString() };
  const rows = await ctx.deps
    .db('webhook_deliveries')
    .insert([0, 1].map((index) => ({ org_id: org.organization.id, webhook_id: webhookId, event_id: crypto.randomUUID(), event_name: 'webhook.test', envelope: { ...envelope, eventId: `e${index}` } })))
    .returning('id');
  const attempts = createDeliveryAttempts({ db: ctx.deps.db, config: ctx.deps.config, logger: ctx.deps.logger });
  const tries = await Promise.all(rows.map(({ id }) => attempts.retry(id, ctx.deps.config.WEBHOOK_RETRY_SCHEDULE, { key: `test:${id}`, attempt: 1 })));
  const outcomes = tries.map((attempt) => (attempt.made ? attempt.result.outcome : 'not made'));
  expect([...outcomes].sort()).toEqual(['parked', 'retry']);
  const webhook = await ctx.deps.db('webhooks').where({ id: webhookId }).first();
  const after = await ctx.deps.db('webhook_deliveries').whereIn('id', rows.map((row) => row.id));
  const probe = after.find((row) => row.id === webhook.probe_delivery_id);
  const parked = after.find((row) => row.id !== webhook.probe_delivery_id);
  expect(webhook.probe_delivery_id).toBe(rows[outcomes.indexOf('retry')].id);
  expect(webhook.failed_attempts_in_a_row).toBe(THRESHOLD + 1);
  expect(probe).toMatchObject({ attempt_count: 1, parked_at: null, next_attempt_at: expect.any(Date) });
  expect(parked).toMatchObject({ attempt_count: 1, parked_at: expect.any(Date), next_attempt_at: null });
});
