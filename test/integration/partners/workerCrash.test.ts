import { createWebAccounts } from '../../../src/identity/webAccounts';
import { createConsentService } from '../../../src/partners/consent';
import { eventually } from '../../support/context';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { integrate, oauth, seedPartner } from '../../support/partners';
import { CrashTestStack, startCrashTestStack } from '../../support/workerProcess';

/**
 * The wait for consent is a durable timer and a signal in Temporal, not worker memory: a worker
 * SIGKILLed while the onboarding waits, and restarted after the agency consented, still delivers.
 */
jest.setTimeout(180_000);

let partnerServer: FakeSubscriber;
let stack: CrashTestStack;

beforeAll(async () => {
  partnerServer = await startFakeSubscriber();
  stack = await startCrashTestStack({ WEBHOOK_ALLOW_TARGETS: partnerServer.hostPort, PARTNER_KEY_RETRY_SCHEDULE: '0s,500ms,500ms,500ms' });
});

afterAll(async () => {
  await stack.close();
  await partnerServer.close();
});

it('delivers the key after a worker SIGKILLed during the wait for consent is restarted', async () => {
  const { ctx, api } = stack;
  const webhookUrl = partnerServer.endpoint();
  const { partner, clientId, clientSecret } = await seedPartner(ctx.deps, webhookUrl);
  const token = (await oauth(api, clientId, clientSecret, { 'X-Forwarded-For': '192.0.2.200' })).body['x-crm-token'];
  const link = await integrate(api, token, { agencyId: 'crash-agency' });
  expect(link.status).toBe(201);

  const first = await stack.startWorker();
  const client = await ctx.deps.temporal.get();
  const handle = client.workflow.getHandle(`partner-onboarding:${partner.id}:crash-agency`);
  // The worker's relay started the workflow, and it is waiting on its consent timer.
  await eventually(async () => {
    const history = await handle.fetchHistory().catch(() => undefined);
    return history?.events?.some((event) => event.timerStartedEventAttributes) ?? false;
  }, 60_000);
  await first.kill('SIGKILL');

  const { orgId, userId } = await createWebAccounts(ctx.deps.db, { sessionTtlMs: 60_000 }).register({
    organizationName: 'Makler Absturz',
    email: `crash-${Date.now()}@example.com`,
    password: 'survives a crash',
    flags: [],
  });
  const consent = await createConsentService(ctx.deps.db, ctx.deps.config).confirm(link.body.url.split('/connect/')[1], userId, orgId);
  expect(consent.state).toBe('usable');
  // No worker runs: the consent is owed in the outbox and nothing is delivered yet.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(partnerServer.received.filter((request) => request.path === new URL(webhookUrl).pathname)).toHaveLength(0);

  await stack.startWorker();
  const delivered = await eventually(async () => partnerServer.received.find((request) => request.path === new URL(webhookUrl).pathname), 90_000);
  expect(delivered.body).toEqual({ 'x-api-key': expect.stringMatching(/^sk_test_/), agencyId: 'crash-agency' });
  expect((await api.request('GET', '/api/v1/me', { key: delivered.body['x-api-key'] })).status).toBe(200);
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'delivered' });
  expect(partnerServer.received.filter((request) => request.path === new URL(webhookUrl).pathname)).toHaveLength(1);
});
