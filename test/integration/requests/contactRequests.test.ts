import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { workflowIds } from '../../../src/domain/workflowIds';
import { contactRequestHash } from '../../../src/requests/ingress';
import type { SmtpIngress } from '../../../src/requests/smtpServer';
import { eventually, seedOrganization } from '../../support/context';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { completeListing } from '../../support/listings';
import { largeMail, loadMailFixture, withMessageId } from '../../support/mailFixtures';
import { startTestSmtpIngress } from '../../support/smtpIngress';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * Contact requests end to end: portal e-mails (test/fixtures/mail) sent over real SMTP to the
 * ingress, the contactRequest workflow on the real workers, and the events a loopback webhook
 * subscriber receives.
 */
jest.setTimeout(120_000);

const DOMAIN = 'inbound.immoflow.test';
let stack: TestStack;
let subscriber: FakeSubscriber;
let smtp: SmtpIngress;

beforeAll(async () => {
  subscriber = await startFakeSubscriber();
  stack = await startTestStack({ WEBHOOK_ALLOW_TARGETS: subscriber.hostPort, INBOUND_MAIL_DOMAIN: DOMAIN, RATE_LIMIT_PER_HOUR: '100000' });
  smtp = await startTestSmtpIngress(stack.ctx.deps);
});

afterAll(async () => {
  await smtp?.close();
  await stack?.close();
  await subscriber?.close();
});

const api = () => stack.api;
const db = () => stack.ctx.deps.db;

type Org = Awaited<ReturnType<typeof seedOrganization>> & { inbox: string; hook: string; listings: Record<string, string> };

/** An organisation with its inbox, a request.* subscription, and listings IMMO-4711…4713. */
async function agency(): Promise<Org> {
  const org = await seedOrganization(stack.ctx.deps);
  const me = await api().request('GET', '/api/v1/me', { key: org.secretKey });
  const hook = subscriber.endpoint();
  const subscription = await api().request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: hook, events: ['request.*'] } });
  expect(subscription.status).toBe(201);
  const listings: Record<string, string> = {};
  for (const ref of ['IMMO-4711', 'IMMO-4712', 'IMMO-4713']) {
    const created = await api().request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ external_ref: ref }) });
    expect(created.status).toBe(201);
    listings[ref] = created.body.data.id;
  }
  return { ...org, inbox: me.body.data.inbox.address, hook, listings };
}

function transport() {
  return nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true });
}

async function send(raw: Buffer, to: string) {
  return transport().sendMail({ envelope: { from: 'noreply@portal.example', to: [to] }, raw });
}

/** The events the org's subscriber received, in arrival order. */
function received(org: Org) {
  const path = new URL(org.hook).pathname;
  return subscriber.received.filter((delivery) => delivery.path === path).map((delivery) => delivery.body);
}

async function nextEvent(org: Org, index: number) {
  return eventually(async () => received(org)[index], 30_000);
}

/** Sends `fixture` and waits for the one event it causes. */
async function sendAndReceive(org: Org, fixture: string | Buffer) {
  const before = received(org).length;
  await send(typeof fixture === 'string' ? loadMailFixture(fixture) : fixture, org.inbox);
  return nextEvent(org, before);
}

describe('inbox', () => {
  it('is shown by GET /me to secret keys as <org-slug>.<random>@<INBOUND_MAIL_DOMAIN>, never to publishable keys', async () => {
    const org = await seedOrganization(stack.ctx.deps);
    const me = await api().request('GET', '/api/v1/me', { key: org.secretKey });
    expect(me.status).toBe(200);
    const slug = org.organization.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    expect(me.body.data.inbox.address).toMatch(new RegExp(`^${slug}\\.[a-z2-7]{10}@${DOMAIN.replace(/\./g, '\\.')}$`));
    const again = await api().request('GET', '/api/v1/me', { key: org.secretKey });
    expect(again.body.data.inbox).toEqual(me.body.data.inbox);
    const publishable = await api().request('GET', '/api/v1/me', { key: org.publishableKey });
    expect(publishable.body.data.inbox).toBeNull();
  });

  it('refuses mail for an unknown address at RCPT TO with 550, and a rotated-out address from the rotation on', async () => {
    const org = await agency();
    await expect(send(loadMailFixture('is24-utf8-base64'), `nobody.aaaaaaaaaa@${DOMAIN}`)).rejects.toMatchObject({ responseCode: 550 });

    const rotated = await api().request('POST', '/api/v1/inbox/rotate', { key: org.secretKey });
    expect(rotated.status).toBe(201);
    expect(rotated.body.data.address).not.toBe(org.inbox);
    await expect(send(loadMailFixture('is24-utf8-base64'), org.inbox)).rejects.toMatchObject({ responseCode: 550 });
    const me = await api().request('GET', '/api/v1/me', { key: org.secretKey });
    expect(me.body.data.inbox.address).toBe(rotated.body.data.address);
    const event = await sendAndReceive({ ...org, inbox: rotated.body.data.address }, 'is24-utf8-base64');
    expect(event.eventName).toBe('request.created');
    expect(event.eventPayload.inbox_id).toBe(rotated.body.data.id);
  });
});

describe('STARTTLS', () => {
  it('is offered when SMTP_TLS_KEY_FILE and SMTP_TLS_CERT_FILE are set, and a mail sent over it becomes a request', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-smtp-tls-'));
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${DOMAIN}`], { stdio: 'ignore' });
    const tlsIngress = await startTestSmtpIngress(stack.ctx.deps, { ...stack.ctx.deps.config, SMTP_TLS_KEY_FILE: keyFile, SMTP_TLS_CERT_FILE: certFile });
    try {
      const org = await agency();
      const before = received(org).length;
      const secure = nodemailer.createTransport({ host: '127.0.0.1', port: tlsIngress.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
      const info = await secure.sendMail({ envelope: { from: 'noreply@portal.example', to: [org.inbox] }, raw: loadMailFixture('is24-utf8-base64') });
      expect(info.response).toMatch(/^250/);
      expect((await nextEvent(org, before)).eventName).toBe('request.created');
      // Without a certificate the server does not offer STARTTLS, so a client that insists fails.
      const insisting = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: true });
      await expect(insisting.sendMail({ envelope: { from: 'noreply@portal.example', to: [org.inbox] }, raw: loadMailFixture('no-xml') })).rejects.toThrow(/STARTTLS/i);
    } finally {
      await tlsIngress.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('request.created', () => {
  it('turns an ImmobilienScout24 mail (base64 UTF-8 XML, German date) into a request matched to its listing', async () => {
    const org = await agency();
    const event = await sendAndReceive(org, 'is24-utf8-base64');
    expect(event.eventName).toBe('request.created');
    const request = event.eventPayload;
    expect(request).toMatchObject({
      listing_id: org.listings['IMMO-4711'],
      external_ref: 'IMMO-4711',
      portal: 'ImmobilienScout24',
      requested_at: '2026-11-30T13:05:00.000Z',
      prospect: { salutation: 'Herr', first_name: 'Max', last_name: 'Mustermann', email: 'max.mustermann@example.com' },
      erased_at: null,
    });
    expect(request.message).toEqual(expect.any(String));

    const fetched = await api().request('GET', `/api/v1/requests/${request.id}`, { key: org.secretKey });
    expect(fetched.status).toBe(200);
    expect(fetched.body.data).toEqual(request);
    const mail = await db()('inbound_mails').where({ request_id: request.id }).first();
    expect(mail).toMatchObject({ via: 'smtp', outcome: 'created', recipient: org.inbox });
    const stored = await stack.ctx.deps.storage.statObject(stack.ctx.deps.config.S3_BUCKET_MAIL, mail.object_key);
    expect(stored.size).toBe(loadMailFixture('is24-utf8-base64').length);

    // Operators find the run by organisation and, once matched, by listing.
    const client = await stack.ctx.deps.temporal.get();
    const run = client.workflow.getHandle(workflowIds.contactRequest(contactRequestHash(org.organization.id, mail.message_key)));
    expect(await run.result()).toEqual({ outcome: 'created', requestId: request.id, listingId: org.listings['IMMO-4711'] });
    const { searchAttributes } = await run.describe();
    expect(searchAttributes).toMatchObject({ OrgId: [org.organization.id], ListingId: [org.listings['IMMO-4711']] });
  });

  it('reads ISO-8859-1 quoted-printable mail with a Latin-1 XML attachment, inline XML, namespaced upper-case XML and 8bit parts', async () => {
    const org = await agency();
    const latin1 = await sendAndReceive(org, 'immowelt-latin1-qp');
    expect(latin1.eventPayload).toMatchObject({
      listing_id: org.listings['IMMO-4712'],
      requested_at: '2026-07-15T07:30:00.000Z',
      prospect: { salutation: 'Frau', first_name: 'Käthe', last_name: 'Müller-Lüdenscheidt', phone: '+49 171 2345678' },
    });
    const inline = await sendAndReceive(org, 'inline-xml');
    expect(inline.eventPayload).toMatchObject({ listing_id: org.listings['IMMO-4713'], prospect: { first_name: 'Aylin', last_name: 'Yılmaz' } });
    const namespaced = await sendAndReceive(org, 'namespaced-uppercase');
    expect(namespaced.eventPayload).toMatchObject({ listing_id: org.listings['IMMO-4711'], prospect: { first_name: 'Jonas', email: 'jonas.becker@example.net' } });
    const eightBit = await sendAndReceive(org, 'no-prolog-8bit');
    expect(eightBit.eventPayload).toMatchObject({ listing_id: org.listings['IMMO-4712'], requested_at: '2026-08-03T16:45:00.000Z', prospect: { first_name: 'Ömer' } });
    const twoXml = await sendAndReceive(org, 'immowelt-two-xml');
    expect(twoXml.eventPayload).toMatchObject({ listing_id: org.listings['IMMO-4712'], prospect: { first_name: 'Paul', last_name: 'Weber' } });
  });

  it('creates a request for an unknown object with listing_id null', async () => {
    const org = await agency();
    const event = await sendAndReceive(org, 'unknown-object');
    expect(event.eventName).toBe('request.created');
    expect(event.eventPayload).toMatchObject({ listing_id: null, external_ref: 'DOES-NOT-EXIST', prospect: { first_name: 'Lena', last_name: 'Schmidt' } });
  });

  it('processes one Message-ID once, and one prospect per listing once within the de-duplication window', async () => {
    const org = await agency();
    await sendAndReceive(org, 'is24-utf8-base64');
    // Same Message-ID with other bytes (one more Received header), then the same prospect again
    // under a new Message-ID: both are accepted with 250, neither is a new request.
    const duplicate = await send(loadMailFixture('duplicate-message-id'), org.inbox);
    expect(duplicate.response).toMatch(/^250/);
    const again = await send(loadMailFixture('same-prospect-again'), org.inbox);
    expect(again.response).toMatch(/^250/);
    const settled = await eventually(async () => {
      const mails = await db()('inbound_mails').where({ org_id: org.organization.id });
      return mails.length === 2 && mails.every((mail) => mail.processed_at) && mails;
    });
    expect(settled.map((mail) => mail.outcome).sort()).toEqual(['created', 'duplicate']);
    // A marker mail proves the pipeline has moved on, so a second event would have arrived by now.
    const marker = await sendAndReceive(org, 'unknown-object');
    expect(marker.eventPayload.external_ref).toBe('DOES-NOT-EXIST');
    expect(received(org).map((event) => event.eventName)).toEqual(['request.created', 'request.created']);
    const list = await api().request('GET', '/api/v1/requests', { key: org.secretKey });
    expect(list.body.data).toHaveLength(2);
  });
});

describe('request.parsing_failed', () => {
  it.each([
    ['no-xml', 'no_xml_attachment'],
    ['broken-xml', 'invalid_xml'],
    ['xxe', 'invalid_xml'],
    ['billion-laughs', 'invalid_xml'],
    ['unsupported-schema', 'unsupported_schema'],
  ])('%s → %s, with exactly the fields of reference 003', async (fixture, failureCode) => {
    const org = await agency();
    const event = await sendAndReceive(org, fixture);
    expect(event.eventName).toBe('request.parsing_failed');
    expect(Object.keys(event.eventPayload).sort()).toEqual(['body', 'createdAt', 'failureCode', 'failureMessage', 'recipient', 'sender', 'subject', 'targetId']);
    const me = await api().request('GET', '/api/v1/me', { key: org.secretKey });
    expect(event.eventPayload).toMatchObject({ targetId: me.body.data.inbox.id, failureCode, recipient: org.inbox });
    expect(event.eventPayload.failureMessage).toEqual(expect.any(String));
    expect(event.eventPayload.sender).toMatch(/@/);
    expect(event.eventPayload.subject).toEqual(expect.any(String));
    expect(event.eventPayload.body.length).toBeLessThanOrEqual(10_000);
    expect(JSON.stringify(event)).not.toContain('root:x:0:0');
    expect(await db()('contact_requests').where({ org_id: org.organization.id })).toHaveLength(0);
  });

  it('refuses a 12 MB message with 552, keeps none of it, and reports too_large once', async () => {
    const org = await agency();
    const raw = largeMail(12 * 1024 * 1024);
    await expect(send(raw, org.inbox)).rejects.toMatchObject({ responseCode: 552 });
    const event = await nextEvent(org, 0);
    expect(event.eventPayload).toMatchObject({ failureCode: 'too_large', recipient: org.inbox, sender: 'noreply@immobilienscout24.de', body: '' });
    // Sent again (an MTA retrying): refused again, reported no second time.
    await expect(send(raw, org.inbox)).rejects.toMatchObject({ responseCode: 552 });
    const mails = await db()('inbound_mails').where({ org_id: org.organization.id });
    expect(mails).toEqual([expect.objectContaining({ outcome: 'failed', object_key: null })]);
    const objects = await stack.ctx.deps.storage.listObjectsV2(stack.ctx.deps.config.S3_BUCKET_MAIL, `${org.organization.id}/`, true).toArray();
    expect(objects).toHaveLength(0);
  });
});

describe('POST /api/v1/inbound/mail', () => {
  async function post(org: Org, raw: Buffer, options: { key?: string; query?: string; contentType?: string } = {}): Promise<{ status: number; json(): Promise<any> }> {
    return fetch(`${api().baseUrl}/api/v1/inbound/mail${options.query ?? ''}`, {
      method: 'POST',
      headers: { 'X-API-Key': options.key ?? org.secretKey, 'Content-Type': options.contentType ?? 'message/rfc822' },
      body: raw,
    });
  }

  it('accepts a raw mail with requests:write (202), once per Message-ID, and it becomes a request', async () => {
    const org = await agency();
    const response = await post(org, loadMailFixture('is24-utf8-base64'));
    expect(response.status).toBe(202);
    const body = await response.json();
    expect(body.data).toEqual({ mail_id: expect.any(String), status: 'accepted' });
    const event = await nextEvent(org, 0);
    expect(event.eventPayload).toMatchObject({ listing_id: org.listings['IMMO-4711'], prospect: { last_name: 'Mustermann' } });
    const again = await (await post(org, loadMailFixture('is24-utf8-base64'))).json();
    expect(again.data).toEqual({ mail_id: body.data.mail_id, status: 'duplicate' });
    expect(await db()('inbound_mails').where({ id: body.data.mail_id }).first()).toMatchObject({ via: 'http', recipient: org.inbox });
  });

  it('refuses a key without requests:write, a body that is not message/rfc822, and a recipient of another organisation', async () => {
    const org = await agency();
    const other = await agency();
    const readOnly = await stack.ctx.deps.identity.createApiKey({ orgId: org.organization.id, kind: 'secret', mode: 'test', scopes: ['requests:read'] });
    expect((await post(org, loadMailFixture('no-xml'), { key: readOnly.key })).status).toBe(403);
    const json = await post(org, Buffer.from('{}'), { contentType: 'application/json' });
    expect(json.status).toBe(415);
    expect((await json.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const named = await post(org, loadMailFixture('no-xml'), { query: `?recipient=${encodeURIComponent(other.inbox)}` });
    expect(named.status).toBe(400);
    expect((await named.json()).error.details.fields[0].path).toBe('recipient');
  });

  it("reports a mail whose headers name another organisation's inbox as unknown_organisation", async () => {
    const org = await agency();
    const other = await agency();
    const raw = Buffer.from(loadMailFixture('is24-utf8-base64').toString('latin1').replace('To: anfragen@makler-beispiel.de', `To: ${other.inbox}`), 'latin1');
    const response = await post(org, withMessageId(raw, 'misrouted-1@immobilienscout24.de'));
    expect(response.status).toBe(202);
    expect((await response.json()).data.status).toBe('refused');
    const event = await nextEvent(org, 0);
    expect(event.eventPayload).toMatchObject({ failureCode: 'unknown_organisation', recipient: other.inbox });
    expect(received(other)).toHaveLength(0);
  });

  it('answers 413 beyond INBOUND_MAIL_MAX_BYTES', async () => {
    const org = await agency();
    const response = await post(org, largeMail(11 * 1024 * 1024));
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('GET /api/v1/requests and DELETE /api/v1/requests/{id}', () => {
  it('pages with a cursor and filters by listing_id, since and email, within the organisation', async () => {
    const org = await agency();
    const first = await sendAndReceive(org, 'is24-utf8-base64');
    const second = await sendAndReceive(org, 'immowelt-latin1-qp');
    const third = await sendAndReceive(org, 'unknown-object');
    const ids = [first, second, third].map((event) => event.eventPayload.id);

    const page1 = await api().request('GET', '/api/v1/requests?limit=2', { key: org.secretKey });
    expect(page1.body.data.map((request: { id: string }) => request.id)).toEqual(ids.slice(0, 2));
    expect(page1.body.pagination.has_more).toBe(true);
    const page2 = await api().request('GET', `/api/v1/requests?limit=2&cursor=${page1.body.pagination.next_cursor}`, { key: org.secretKey });
    expect(page2.body.data.map((request: { id: string }) => request.id)).toEqual(ids.slice(2));
    expect(page2.body.pagination.has_more).toBe(false);

    const byListing = await api().request('GET', `/api/v1/requests?listing_id=${org.listings['IMMO-4712']}`, { key: org.secretKey });
    expect(byListing.body.data.map((request: { id: string }) => request.id)).toEqual([ids[1]]);
    const byEmail = await api().request('GET', `/api/v1/requests?email=${encodeURIComponent('MAX.Mustermann@example.com')}`, { key: org.secretKey });
    expect(byEmail.body.data.map((request: { id: string }) => request.id)).toEqual([ids[0]]);
    const future = await api().request('GET', `/api/v1/requests?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { key: org.secretKey });
    expect(future.body.data).toEqual([]);
    const bad = await api().request('GET', '/api/v1/requests?listing_id=nope', { key: org.secretKey });
    expect(bad.status).toBe(400);

    const stranger = await seedOrganization(stack.ctx.deps);
    expect((await api().request('GET', `/api/v1/requests/${ids[0]}`, { key: stranger.secretKey })).status).toBe(404);
    expect((await api().request('DELETE', `/api/v1/requests/${ids[0]}`, { key: stranger.secretKey })).status).toBe(404);
    expect((await api().request('GET', '/api/v1/requests', { key: stranger.secretKey })).body.data).toEqual([]);
    expect((await api().request('GET', '/api/v1/requests/not-a-uuid', { key: org.secretKey })).status).toBe(404);
  });

  it("erases the prospect's data, the raw mail and the event's copy, keeping a tombstone", async () => {
    const org = await agency();
    const event = await sendAndReceive(org, 'is24-utf8-base64');
    const id = event.eventPayload.id;
    const mail = await db()('inbound_mails').where({ request_id: id }).first();

    const erased = await api().request('DELETE', `/api/v1/requests/${id}`, { key: org.secretKey });
    expect(erased.status).toBe(200);
    expect(erased.body.data).toMatchObject({
      id,
      listing_id: org.listings['IMMO-4711'],
      portal: 'ImmobilienScout24',
      message: null,
      prospect: { salutation: null, first_name: null, last_name: null, company: null, email: null, phone: null, address: { street: null, postal_code: null, city: null, country: null } },
      erased_at: expect.any(String),
    });
    const fetched = await api().request('GET', `/api/v1/requests/${id}`, { key: org.secretKey });
    expect(fetched.body.data).toEqual(erased.body.data);
    await expect(stack.ctx.deps.storage.statObject(stack.ctx.deps.config.S3_BUCKET_MAIL, mail.object_key)).rejects.toMatchObject({ code: 'NotFound' });
    expect(await db()('inbound_mails').where({ id: mail.id }).first()).toMatchObject({ sender: null, subject: null, object_key: null });
    const events = await api().request('GET', '/api/v1/events?name=request.created', { key: org.secretKey });
    expect(events.body.data.map((logged: { eventPayload: unknown }) => logged.eventPayload)).toEqual([erased.body.data]);
    expect(JSON.stringify(await db()('webhook_deliveries').where({ event_id: event.eventId }))).not.toContain('Mustermann');

    const twice = await api().request('DELETE', `/api/v1/requests/${id}`, { key: org.secretKey });
    expect(twice.body.data.erased_at).toBe(erased.body.data.erased_at);
    const readOnly = await stack.ctx.deps.identity.createApiKey({ orgId: org.organization.id, kind: 'secret', mode: 'test', scopes: ['requests:write'] });
    expect((await api().request('DELETE', `/api/v1/requests/${id}`, { key: readOnly.key })).status).toBe(403);
  });
});
