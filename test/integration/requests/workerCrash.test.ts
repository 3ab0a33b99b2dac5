import nodemailer from 'nodemailer';
import { workflowIds } from '../../../src/domain/workflowIds';
import { contactRequestHash } from '../../../src/requests/ingress';
import type { SmtpIngress } from '../../../src/requests/smtpServer';
import { eventually, seedOrganization } from '../../support/context';
import { LARGE_MAIL_FEEDBACK, largeMail } from '../../support/mailFixtures';
import { startTestSmtpIngress } from '../../support/smtpIngress';
import { CrashTestStack, startCrashTestStack } from '../../support/workerProcess';

/**
 * A worker SIGKILLed while it parses a mail: the parse runs again on another worker once the
 * heartbeat is missed, and the mail still ends with exactly one request and one event.
 */
jest.setTimeout(180_000);

let stack: CrashTestStack;
let smtp: SmtpIngress;

beforeAll(async () => {
  stack = await startCrashTestStack({ INBOUND_MAIL_DOMAIN: 'inbound.immoflow.test' });
  smtp = await startTestSmtpIngress(stack.ctx.deps);
});

afterAll(async () => {
  await smtp?.close();
  await stack?.close();
});

it('ends with one request.created after the worker parsing the mail is SIGKILLed', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  const inbox = (await api.request('GET', '/api/v1/me', { key: org.secretKey })).body.data.inbox.address;
  const first = await stack.startWorker();

  // Nearly 10 MB: decoding it keeps the parse step busy long enough to be killed inside it.
  const messageId = `crash-${Date.now()}@immobilienscout24.de`;
  const sent = await nodemailer
    .createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true })
    .sendMail({ envelope: { from: 'noreply@immobilienscout24.de', to: [inbox] }, raw: largeMail(10 * 1024 * 1024 - 4096, messageId) });
  expect(sent.response).toMatch(/^250/);

  // The client connects with a short timeout; on a loaded machine the first try may miss it.
  const client = await eventually(() => ctx.deps.temporal.get(), 30_000);
  const handle = client.workflow.getHandle(workflowIds.contactRequest(contactRequestHash(org.organization.id, `id:${messageId}`)));
  await eventually(async () => {
    const description = await handle.describe().catch(() => undefined);
    return description?.raw.pendingActivities?.some((activity) => activity.activityType?.name === 'processContactMail' && activity.lastStartedTime) ?? false;
  }, 60_000, 20);
  await first.kill('SIGKILL');
  await stack.startWorker();

  const result = await handle.result();
  expect(result).toEqual({ outcome: 'created', requestId: expect.any(String), listingId: null });
  // The parse ran twice: the killed attempt, then the retry after the missed heartbeat.
  const history = await handle.fetchHistory();
  const attempts = history.events?.flatMap((event) => (event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes.attempt] : [])) ?? [];
  expect(attempts[0]).toBeGreaterThanOrEqual(2);

  const events = await ctx.deps.db('events').where({ org_id: org.organization.id }).whereIn('name', ['request.created', 'request.parsing_failed']);
  expect(events).toHaveLength(1);
  expect(events[0].payload).toMatchObject({ id: result.requestId, prospect: { first_name: LARGE_MAIL_FEEDBACK.firstName, email: LARGE_MAIL_FEEDBACK.email } });
  expect(await ctx.deps.db('contact_requests').where({ org_id: org.organization.id })).toHaveLength(1);
});
