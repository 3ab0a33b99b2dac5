import crypto from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { TestApi, TestContext, eventually, seedOrganization } from '../../support/context';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { completeListing } from '../../support/listings';
import { SmtpSink, startSmtpSink } from '../../support/smtpSink';
import { taskQueues } from '../../../src/temporal/taskQueues';
import { TestStack, startTestStack } from '../../support/workers';

/** Verbatim logic of the Node snippet in reference 002. */
function verifyLikeReference002(secret: string, rawBody: Buffer, header: string): boolean {
  const signature = header.replace(/^sha256=/, '');
  const expected = crypto.createHmac('sha256', secret).update(rawBody).digest('hex');
  return signature.length === expected.length && crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

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
    WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s,1s,1s',
    WEBHOOK_FAILURE_THRESHOLD: '1',
    SMTP_URL: smtp.url,
  });
  ({ ctx, api } = stack);
});

afterAll(async () => {
  await stack.close();
  await subscriber.close();
  await smtp.close();
});

/** A subscription on its own endpoint of the fake subscriber, optionally scripted to fail. */
async function createWebhook(key: string, events: string[] = ['listing.*'], statuses: number[] = [], fallback = 200) {
  const url = subscriber.endpoint();
  subscriber.script(url, statuses, fallback);
  const response = await api.request('POST', '/api/v1/webhooks', { key, body: { url, events, description: 'CRM sync' } });
  expect({ status: response.status, error: response.body.error }).toEqual({ status: 201, error: undefined });
  return { ...(response.body.data as { id: string; secret: string }), path: new URL(url).pathname };
}

const receivedAt = (path: string) => subscriber.received.filter((delivery) => delivery.path === path);

describe('management API', () => {
  it('shows the secret once, encrypts it at rest and never returns it again', async () => {
    const org = await seedOrganization(ctx.deps);
    const created = await createWebhook(org.secretKey, ['listing.published', 'publication.*']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
    expect(Buffer.from(created.secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);

    const row = await ctx.deps.db('webhooks').where({ id: created.id }).first();
    expect(JSON.stringify(row)).not.toContain(created.secret);
    expect(row.secret_ciphertext).toMatch(/^v1:/);

    for (const path of [`/api/v1/webhooks/${created.id}`, '/api/v1/webhooks']) {
      const response = await api.request('GET', path, { key: org.secretKey });
      expect(response.status).toBe(200);
      expect(response.text).not.toContain(created.secret);
      expect(response.text).not.toContain('"secret"');
    }
    const patched = await api.request('PATCH', `/api/v1/webhooks/${created.id}`, { key: org.secretKey, body: { description: 'renamed' } });
    expect(patched.body.data).toMatchObject({ description: 'renamed', events: ['listing.published', 'publication.*'] });
    expect(patched.text).not.toContain('"secret"');
  });

  it('rejects plain http outside the allow list and unknown events with VALIDATION_ERROR', async () => {
    const org = await seedOrganization(ctx.deps);
    const http = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: 'http://hooks.example.com/x', events: ['listing.created'] } });
    expect(http.status).toBe(400);
    expect(http.body.error.details.fields[0].path).toBe('url');
    const unknown = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: subscriber.url, events: ['listing.created', 'listing.exploded', 'nope.*'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.fields.map((field: { path: string }) => field.path)).toEqual(['events.1', 'events.2']);
  });

  it('rejects 30 SSRF targets at creation', async () => {
    const org = await seedOrganization(ctx.deps);
    const targets = [
      'https://127.0.0.1/', 'https://localhost/', 'https://10.0.0.1/', 'https://10.255.255.255/', 'https://172.16.0.1/',
      'https://172.31.255.254/', 'https://192.168.1.1/', 'https://169.254.169.254/latest/meta-data/', 'https://169.254.0.1/', 'https://100.64.0.1/',
      'https://100.127.255.254/', 'https://0.0.0.0/', 'https://224.0.0.1/', 'https://255.255.255.255/', 'https://[::1]/',
      'https://[::]/', 'https://[fe80::1]/', 'https://[fc00::1]/', 'https://[fd12:3456::1]/', 'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:10.0.0.1]/', 'https://[64:ff9b::7f00:1]/', 'https://[2002:7f00:1::]/', 'https://2130706433/', 'https://0x7f.0.0.1/',
      'https://0177.0.0.1/', 'https://127.1/', 'https://017700000001/', 'https://user:pass@hooks.example.com/', 'ftp://hooks.example.com/',
    ];
    expect(targets).toHaveLength(30);
    for (const url of targets) {
      const response = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url, events: ['listing.created'] } });
      expect({ url, status: response.status, code: response.body?.error?.code }).toEqual({ url, status: 400, code: 'VALIDATION_ERROR' });
    }
    expect(await ctx.deps.db('webhooks').where({ org_id: org.organization.id })).toHaveLength(0);
  });

  it('hides another organisation’s webhooks and deliveries (404) and refuses publishable keys (403)', async () => {
    const owner = await seedOrganization(ctx.deps);
    const other = await seedOrganization(ctx.deps);
    const created = await createWebhook(owner.secretKey);
    const test = await api.request('POST', `/api/v1/webhooks/${created.id}/test`, { key: owner.secretKey });
    expect(test.status).toBe(202);
    const deliveryId = test.body.delivery_id;
    for (const [method, path] of [
      ['GET', `/api/v1/webhooks/${created.id}`],
      ['GET', `/api/v1/webhooks/${created.id}/deliveries`],
      ['GET', `/api/v1/webhooks/${created.id}/deliveries/${deliveryId}`],
      ['POST', `/api/v1/webhooks/${created.id}/deliveries/${deliveryId}/redeliver`],
      ['DELETE', `/api/v1/webhooks/${created.id}`],
    ] as const) {
      const response = await api.request(method, path, { key: other.secretKey });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    expect((await api.request('GET', '/api/v1/webhooks', { key: owner.publishableKey })).body.error.code).toBe('INSUFFICIENT_SCOPE');
    const dark = await seedOrganization(ctx.deps, { flags: ['LISTINGS_WRITE_API_ENABLED'] });
    expect((await api.request('GET', '/api/v1/webhooks', { key: dark.secretKey })).status).toBe(404);
  });
});

describe('delivery', () => {
  it('retries a failing subscriber; the 4th attempt carries the same X-Webhook-ID and valid signatures', async () => {
    const org = await seedOrganization(ctx.deps);
    const webhook = await createWebhook(org.secretKey, ['listing.created'], [500, 502, 503]);
    const listing = completeListing();
    const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: listing });
    expect(created.status).toBe(201);

    // Between attempts, the failed attempt's own transaction has recorded when the next one runs.
    const retrying = await eventually(async () => {
      const row = await ctx.deps.db('webhook_deliveries').where({ webhook_id: webhook.id, status: 'pending' }).whereNotNull('next_attempt_at').first();
      return row ? { row, seenAt: Date.now() } : undefined;
    }, 30_000, 50);
    expect(retrying.row.attempt_count).toBeGreaterThanOrEqual(1);
    expect(retrying.row.next_attempt_at.getTime() - retrying.seenAt).toBeLessThanOrEqual(1200);

    const attempts = await eventually(async () => {
      const mine = receivedAt(webhook.path);
      return mine.length >= 4 ? mine : undefined;
    }, 30_000);
    expect(new Set(attempts.map((attempt) => attempt.headers['x-webhook-id'])).size).toBe(1);
    const last = attempts[3];
    expect(last.body).toMatchObject({ eventName: 'listing.created', eventPayload: { listingId: created.body.data.id, externalRef: listing.external_ref } });
    expect(Object.keys(last.body).sort()).toEqual(['eventId', 'eventName', 'eventPayload', 'eventTime']);
    expect(last.headers['x-webhook-id']).toBe(last.body.eventId);
    expect(verifyLikeReference002(webhook.secret, Buffer.from(last.rawBody), String(last.headers['x-webhook-signature']))).toBe(true);
    expect(() => new Webhook(webhook.secret).verify(last.rawBody, last.headers as Record<string, string>)).not.toThrow();
    expect(verifyLikeReference002('whsec_wrong', Buffer.from(last.rawBody), String(last.headers['x-webhook-signature']))).toBe(false);

    // The subscriber has the 4th attempt; the worker records it right after the response.
    const list = await eventually(async () => {
      const response = await api.request('GET', `/api/v1/webhooks/${webhook.id}/deliveries?status=succeeded&page=1&per_page=50`, { key: org.secretKey });
      return response.body.pagination.total === 1 ? response : undefined;
    });
    expect(list.body.pagination).toMatchObject({ page: 1, per_page: 50, total: 1 });
    expect(list.body.data[0]).not.toHaveProperty('payload');
    const detail = await api.request('GET', `/api/v1/webhooks/${webhook.id}/deliveries/${list.body.data[0].id}`, { key: org.secretKey });
    expect(detail.body.data.attempts.map((attempt: { status_code: number }) => attempt.status_code)).toEqual([500, 502, 503, 200]);
    expect(detail.body.data.attempts[0]).toMatchObject({ response_body: 'failing with 500', duration_ms: expect.any(Number) });
    // The relay made attempt 1; the workflow it then started went on from its result.
    const owed = await ctx.deps.db('outbox').where({ workflow_id: `webhook-delivery:${list.body.data[0].id}` }).first();
    // It also chose attempt 2's time: the schedule's 1 s ± 20 % jitter after attempt 1.
    expect(owed).toMatchObject({ status: 'started', direct_tries: 1, args: [expect.objectContaining({ firstAttempt: { outcome: 'retry', statusCode: 500, retryAfterMs: null, nextAttemptAtMs: expect.any(Number) } })] });
    // The row held attempt 2 until it was due: the run started only then.
    expect(owed.started_at.getTime()).toBeGreaterThanOrEqual(owed.args[0].firstAttempt.nextAttemptAtMs - 50);
    const secondAttemptDue = owed.args[0].firstAttempt.nextAttemptAtMs - attempts[0].at;
    expect(secondAttemptDue).toBeGreaterThanOrEqual(800 - 100);
    expect(secondAttemptDue).toBeLessThan(1200 + 100);
    expect(attempts[1].at).toBeGreaterThanOrEqual(owed.args[0].firstAttempt.nextAttemptAtMs - 50);
    const handle = (await ctx.deps.temporal.get()).workflow.getHandle(owed.workflow_id);
    expect(await handle.result()).toEqual({ status: 'succeeded', attempts: 4 });
    // Attempts 2 to 4 were the tries of one activity,
    // which Temporal retried at the times the failed attempts chose: no timer, no workflow task.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const activities = events.flatMap((event) => (event.activityTaskScheduledEventAttributes ? [event.activityTaskScheduledEventAttributes.activityType?.name] : []));
    expect(activities).toEqual(['retryUntilSettled']);
    // The workflow runs on the main queue, its attempts on the webhooks queue with its own slots.
    expect((await handle.describe()).taskQueue).toBe(taskQueues(ctx.deps.config).main);
    expect(events.find((event) => event.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes?.taskQueue?.name).toBe(taskQueues(ctx.deps.config).webhooks);
    expect(events.find((event) => event.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes?.attempt).toBe(3);
    expect(events.filter((event) => event.timerStartedEventAttributes)).toHaveLength(0);
    expect(events.filter((event) => event.workflowTaskCompletedEventAttributes)).toHaveLength(2);
  });

  it('disables the subscription on 410, refuses redelivery while disabled, and redelivers after re-enabling', async () => {
    const org = await seedOrganization(ctx.deps);
    const webhook = await createWebhook(org.secretKey, ['listing.created'], [410]);
    await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
    const disabled = await eventually(async () => {
      const response = await api.request('GET', `/api/v1/webhooks/${webhook.id}`, { key: org.secretKey });
      return response.body.data.active === false ? response.body.data : undefined;
    });
    expect(disabled.disabled_reason).toContain('410');
    const failed = await eventually(async () => {
      const list = await api.request('GET', `/api/v1/webhooks/${webhook.id}/deliveries?status=failed`, { key: org.secretKey });
      return list.body.data[0];
    });
    const refused = await api.request('POST', `/api/v1/webhooks/${webhook.id}/deliveries/${failed.id}/redeliver`, { key: org.secretKey });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('WEBHOOK_INACTIVE');

    await api.request('PATCH', `/api/v1/webhooks/${webhook.id}`, { key: org.secretKey, body: { active: true } });
    const accepted = await api.request('POST', `/api/v1/webhooks/${webhook.id}/deliveries/${failed.id}/redeliver`, { key: org.secretKey });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ redelivery_id: expect.any(String), status: 'pending' });
    const redelivered = await eventually(async () => receivedAt(webhook.path)[1]);
    expect(redelivered.body.eventId).toBe(failed.event_id);
  });

  it('disables a subscription whose deliveries are exhausted and e-mails the developer contact', async () => {
    const org = await seedOrganization(ctx.deps);
    const webhook = await createWebhook(org.secretKey, ['listing.created'], [], 500);
    await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
    const mail = await eventually(async () => smtp.messages.find((message) => message.text?.includes(webhook.id)), 40_000);
    const contact = (await ctx.deps.db('organizations').where({ id: org.organization.id }).first()).developer_contact_email;
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toContain(contact);
    expect(mail.subject).toContain('webhook disabled');
    const row = await ctx.deps.db('webhooks').where({ id: webhook.id }).first();
    expect(row).toMatchObject({ active: false, consecutive_failures: 1 });
    const [delivery] = await ctx.deps.db('webhook_deliveries').where({ webhook_id: webhook.id });
    expect(delivery).toMatchObject({ status: 'failed', attempt_count: 5 });
  });

  it('signs with the new and the previous secret during the rotation grace period', async () => {
    const org = await seedOrganization(ctx.deps);
    const webhook = await createWebhook(org.secretKey, ['listing.created']);
    const rotated = await api.request('POST', `/api/v1/webhooks/${webhook.id}/rotate-secret`, { key: org.secretKey });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.data.secret as string;
    expect(fresh).not.toBe(webhook.secret);
    const test = await api.request('POST', `/api/v1/webhooks/${webhook.id}/test`, { key: org.secretKey });
    const delivery = await eventually(async () => receivedAt(webhook.path)[0]);
    expect(test.status).toBe(202);
    expect(delivery.headers['x-event-type']).toBe('webhook.test');
    expect(verifyLikeReference002(fresh, Buffer.from(delivery.rawBody), String(delivery.headers['x-webhook-signature']))).toBe(true);
    for (const secret of [fresh, webhook.secret]) {
      expect(() => new Webhook(secret).verify(delivery.rawBody, delivery.headers as Record<string, string>)).not.toThrow();
    }
  });

  it('blocks at connect a target that resolves to a private address only at delivery time', async () => {
    const org = await seedOrganization(ctx.deps);
    const webhook = await createWebhook(org.secretKey, ['listing.created']);
    // As if DNS answered a public address at creation and 127.0.0.1 now (rebinding).
    const port = subscriber.hostPort.split(':')[1];
    await ctx.deps.db('webhooks').where({ id: webhook.id }).update({ url: `https://localhost:${port}${webhook.path}` });
    await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
    const attempt = await eventually(async () => {
      const row = await ctx.deps.db('delivery_attempts as a').join('webhook_deliveries as d', 'd.id', 'a.delivery_id').where('d.webhook_id', webhook.id).first('a.*');
      return row;
    });
    expect(attempt.status_code).toBeNull();
    expect(attempt.error).toMatch(/SSRF|blocked|private|loopback/i);
    expect(receivedAt(webhook.path)).toHaveLength(0);
  });
});

describe('end to end', () => {
  it('delivers the listings pipeline’s events to a listing.* subscriber', async () => {
    const org = await seedOrganization(ctx.deps);
    const webhook = await createWebhook(org.secretKey, ['listing.*']);
    const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ status: 'active' }) });
    const names = await eventually(async () => {
      const got = receivedAt(webhook.path).map((delivery) => delivery.body.eventName);
      // Each event is its own delivery workflow: they arrive in any order.
      return ['listing.created', 'listing.moderated', 'listing.published'].every((name) => got.includes(name)) ? got : undefined;
    }, 30_000);
    expect(names.sort()).toEqual(['listing.created', 'listing.moderated', 'listing.published'].sort());
    for (const delivery of receivedAt(webhook.path)) {
      expect(delivery.body.eventPayload.listingId).toBe(created.body.data.id);
      expect(verifyLikeReference002(webhook.secret, Buffer.from(delivery.rawBody), String(delivery.headers['x-webhook-signature']))).toBe(true);
    }
    // First attempts that succeed are made by the outbox relay and run no workflow at all.
    const deliveries = await eventually(async () => {
      const rows = await ctx.deps.db('webhook_deliveries').where({ webhook_id: webhook.id, status: 'succeeded' });
      return rows.length === 3 ? rows : undefined;
    });
    const owed = await ctx.deps.db('outbox').whereIn('workflow_id', deliveries.map((delivery) => `webhook-delivery:${delivery.id}`));
    expect(owed.map((row) => row.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const temporal = await ctx.deps.temporal.get();
    for (const row of owed) await expect(temporal.workflow.getHandle(row.workflow_id).describe()).rejects.toThrow(WorkflowNotFoundError);
  });
});
