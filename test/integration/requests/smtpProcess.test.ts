import nodemailer from 'nodemailer';
import { createTestContext, eventually, freePort, seedOrganization, TestContext } from '../../support/context';
import { createInboxService } from '../../../src/requests/inboxes';
import { loadMailFixture } from '../../support/mailFixtures';
import { startServiceProcess } from '../../support/workerProcess';

/** `npm run smtp` as production runs it: its own process, configured by the environment. */
jest.setTimeout(90_000);

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ INBOUND_MAIL_DOMAIN: 'inbound.immoflow.test' });
});

afterAll(async () => {
  await ctx.close();
});

it('listens on SMTP_PORT, stores accepted mail with its owed workflow, and stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const smtp = await startServiceProcess('src/smtp.ts', 'smtp ingress listening', { SMTP_PORT: String(port), INBOUND_MAIL_DOMAIN: 'inbound.immoflow.test', TEMPORAL_TASK_QUEUE: ctx.deps.config.TEMPORAL_TASK_QUEUE });
  try {
    const org = await seedOrganization(ctx.deps);
    const inbox = await createInboxService(ctx.deps.db, ctx.deps.config).current(org.organization.id);
    const info = await nodemailer
      .createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
      .sendMail({ envelope: { from: 'noreply@immobilienscout24.de', to: [inbox.address] }, raw: loadMailFixture('is24-utf8-base64') });
    expect(info.response).toMatch(/^250/);
    const mail = await ctx.deps.db('inbound_mails').where({ org_id: org.organization.id }).first();
    expect(mail).toMatchObject({ via: 'smtp', recipient: inbox.address, message_key: expect.stringMatching(/^id:/) });
    const owed = await ctx.deps.db('outbox').where({ org_id: org.organization.id, workflow_type: 'contactRequest' });
    expect(owed).toHaveLength(1);
    expect(owed[0].args).toEqual([{ orgId: org.organization.id, mailId: mail.id }]);
  } finally {
    smtp.child.kill('SIGTERM');
    await eventually(async () => smtp.child.exitCode !== null, 10_000);
  }
  expect(smtp.child.exitCode).toBe(0);
});
