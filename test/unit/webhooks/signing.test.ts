import crypto from "node:crypto";
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret } from '../../../src/webhooks/secretCrypto';
import { signatureHeader, signedHeaders, verifySignedDelivery } from '../../../src/webhooks/signing';

interface Received {
  type: string | undefined;
  eventId: string | undefined;
  event: unknown;
}

/**
 * Reference 002, "Step 2 — Verify the HMAC signature on your endpoint": the Node.js (Express)
 * snippet pasted verbatim between the BEGIN/END markers (its `import crypto from "node:crypto"` is
 * the first line of this file). The only additions are this wrapper, so the secret can be chosen per
 * test (assigning process.env first also narrows WEBHOOK_SECRET to string for the type checker),
 * and the `app`/`handleEvent` the snippet uses.
 */
async function startReferenceReceiver(secret: string) {
  process.env.WOHNO_WEBHOOK_SECRET = secret;
  const app = express();
  const received: Received[] = [];
  const handleEvent = (type: string | undefined, eventId: string | undefined, event: unknown) => {
    received.push({ type, eventId, event });
  };

  // ----- BEGIN reference 002 snippet -----
  const WEBHOOK_SECRET = process.env.WOHNO_WEBHOOK_SECRET; // whsec_…
   
  app.post("/wohno", express.raw({ type: "application/json" }), (req, res) => {
    const header = req.get("X-Webhook-Signature") || ""; // "sha256=<hex>"
    const signature = header.replace(/^sha256=/, "");
    const expected = crypto
      .createHmac("sha256", WEBHOOK_SECRET)
      .update(req.body) // raw Buffer, not parsed JSON
      .digest("hex");
   
    const ok =
      signature.length === expected.length &&
      crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
   
    if (!ok) return res.status(401).send("invalid signature");
   
    const event = JSON.parse(req.body.toString());
    const type = req.get("X-Event-Type");
    const eventId = req.get("X-Webhook-ID"); // use for de-duplication
   
    // Respond fast (2xx) and process asynchronously.
    res.status(202).send("ok");
    handleEvent(type, eventId, event);
  });
  // ----- END reference 002 snippet -----

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wohno`;
  return {
    received,
    async deliver(headers: Record<string, string>, rawBody: string): Promise<number> {
      const response = await fetch(url, { method: 'POST', headers, body: Buffer.from(rawBody, 'utf8') });
      await response.text();
      return response.status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const CURRENT = generateWebhookSecret();
const PREVIOUS = generateWebhookSecret();
const UNRELATED = generateWebhookSecret();

const EVENT = {
  eventId: 'evt_01JXYZ',
  eventName: 'listing.published',
  eventPayload: { listingId: 'lst_1', title: 'Altbau-Wohnung in Köln – 3 Zimmer, 85 m²' },
  eventTime: '2025-06-15T12:00:00.000Z',
};
const RAW_BODY = JSON.stringify(EVENT);

function headersFor(secrets: string[], overrides: { rawBody?: string; timestampSeconds?: number } = {}) {
  return signedHeaders({
    rawBody: overrides.rawBody ?? RAW_BODY,
    secrets,
    deliveryEventId: EVENT.eventId,
    eventName: EVENT.eventName,
    webhookMessageId: 'msg_evt_01JXYZ_wh_1',
    timestampSeconds: overrides.timestampSeconds ?? Math.floor(Date.now() / 1000),
  });
}

describe('signatureHeader', () => {
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const BODY =
    '{"eventId":"evt_1","eventName":"listing.created","eventPayload":{"title":"Wohnung in Köln"},"eventTime":"2025-01-01T00:00:00.000Z"}';

  it('is sha256=<hex HMAC-SHA256> keyed with the full whsec_ string (vector from `openssl dgst -sha256 -hmac`)', () => {
    expect(signatureHeader(BODY, SECRET)).toBe('sha256=d30c5e794fc92e7661f7977e97b18795c6da38822c1afb33e073245c2cb0e32f');
  });

  it('is not keyed with the base64-decoded secret (that is the Standard Webhooks key, not reference 002’s)', () => {
    const decodedKeyHex = crypto
      .createHmac('sha256', Buffer.from(SECRET.slice('whsec_'.length), 'base64'))
      .update(BODY)
      .digest('hex');
    expect(signatureHeader(BODY, SECRET)).not.toBe(`sha256=${decodedKeyHex}`);
  });

  it('changes with the body and with the secret', () => {
    expect(signatureHeader(`${BODY} `, SECRET)).not.toBe(signatureHeader(BODY, SECRET));
    expect(signatureHeader(BODY, `${SECRET}x`)).not.toBe(signatureHeader(BODY, SECRET));
  });
});

describe('X-Webhook-Signature against the reference 002 Node snippet', () => {
  let receiver: Awaited<ReturnType<typeof startReferenceReceiver>>;
  afterEach(async () => {
    await receiver.close();
    delete process.env.WOHNO_WEBHOOK_SECRET;
  });

  it('is accepted, and the handler sees the event type, event id and payload', async () => {
    receiver = await startReferenceReceiver(CURRENT);
    expect(await receiver.deliver(headersFor([CURRENT]), RAW_BODY)).toBe(202);
    expect(receiver.received).toEqual([{ type: 'listing.published', eventId: 'evt_01JXYZ', event: EVENT }]);
  });

  it('is signed with the current secret during a rotation', async () => {
    receiver = await startReferenceReceiver(CURRENT);
    expect(await receiver.deliver(headersFor([CURRENT, PREVIOUS]), RAW_BODY)).toBe(202);
  });

  it('is not signed with a previous secret (only the Standard Webhooks header carries those)', async () => {
    receiver = await startReferenceReceiver(PREVIOUS);
    expect(await receiver.deliver(headersFor([CURRENT, PREVIOUS]), RAW_BODY)).toBe(401);
    expect(receiver.received).toEqual([]);
  });

  it('is rejected when the body was altered in transit', async () => {
    receiver = await startReferenceReceiver(CURRENT);
    const tampered = RAW_BODY.replace('Köln', 'Bonn');
    expect(await receiver.deliver(headersFor([CURRENT]), tampered)).toBe(401);
    expect(receiver.received).toEqual([]);
  });

  it('is rejected by a receiver holding a different secret', async () => {
    receiver = await startReferenceReceiver(UNRELATED);
    expect(await receiver.deliver(headersFor([CURRENT]), RAW_BODY)).toBe(401);
  });

  it('would be rejected had it been keyed with the base64-decoded secret', async () => {
    receiver = await startReferenceReceiver(CURRENT);
    const decodedKey = Buffer.from(CURRENT.slice('whsec_'.length), 'base64');
    const wrong = `sha256=${crypto.createHmac('sha256', decodedKey).update(RAW_BODY).digest('hex')}`;
    expect(await receiver.deliver({ ...headersFor([CURRENT]), 'X-Webhook-Signature': wrong }, RAW_BODY)).toBe(401);
  });
});

describe('Standard Webhooks headers', () => {
  it('match the Standard Webhooks reference vector', () => {
    const headers = signedHeaders({
      rawBody: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      deliveryEventId: 'evt_1',
      eventName: 'listing.created',
      webhookMessageId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestampSeconds: 1614265330,
    });
    expect(headers['webhook-id']).toBe('msg_p5jXN8AQM9LWM0D4loKWxJek');
    expect(headers['webhook-timestamp']).toBe('1614265330');
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verify with the standardwebhooks library and yield the payload', () => {
    expect(new Webhook(CURRENT).verify(RAW_BODY, headersFor([CURRENT]))).toEqual(EVENT);
  });

  it('carry one v1 signature per secret, current first', () => {
    const signatures = headersFor([CURRENT, PREVIOUS])['webhook-signature'].split(' ');
    expect(signatures).toHaveLength(2);
    for (const signature of signatures) expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(signatures[0]).toBe(headersFor([CURRENT])['webhook-signature']);
    expect(signatures[1]).toBe(headersFor([PREVIOUS])['webhook-signature']);
  });

  it('verify during a rotation for a subscriber still holding only the previous secret, and for one on the new secret', () => {
    const headers = headersFor([CURRENT, PREVIOUS]);
    expect(new Webhook(PREVIOUS).verify(RAW_BODY, headers)).toEqual(EVENT);
    expect(new Webhook(CURRENT).verify(RAW_BODY, headers)).toEqual(EVENT);
  });

  it('do not verify with a secret that is not in the list', () => {
    expect(() => new Webhook(UNRELATED).verify(RAW_BODY, headersFor([CURRENT, PREVIOUS]))).toThrow(
      'No matching signature found',
    );
    expect(() => new Webhook(PREVIOUS).verify(RAW_BODY, headersFor([CURRENT]))).toThrow('No matching signature found');
  });

  it('do not verify a tampered body, message id or timestamp', () => {
    const headers = headersFor([CURRENT]);
    const webhook = new Webhook(CURRENT);
    expect(() => webhook.verify(RAW_BODY.replace('Köln', 'Bonn'), headers)).toThrow('No matching signature found');
    expect(() => webhook.verify(RAW_BODY, { ...headers, 'webhook-id': 'msg_other' })).toThrow('No matching signature found');
    const shifted = String(Number(headers['webhook-timestamp']) - 1);
    expect(() => webhook.verify(RAW_BODY, { ...headers, 'webhook-timestamp': shifted })).toThrow('No matching signature found');
  });

  it('sign the given timestamp (a stale one is refused by verifiers)', () => {
    const stale = Math.floor(Date.now() / 1000) - 3600;
    const headers = headersFor([CURRENT], { timestampSeconds: stale });
    expect(headers['webhook-timestamp']).toBe(String(stale));
    expect(() => new Webhook(CURRENT).verify(RAW_BODY, headers)).toThrow('Message timestamp too old');
  });
});

describe('signedHeaders', () => {
  it('sends exactly the documented headers', () => {
    const headers = headersFor([CURRENT, PREVIOUS], { timestampSeconds: 1_750_000_000 });
    expect(headers).toEqual({
      'Content-Type': 'application/json',
      'User-Agent': 'Immoflow-Webhooks/1.0',
      'X-Webhook-ID': 'evt_01JXYZ',
      'X-Event-Type': 'listing.published',
      'X-Webhook-Signature': signatureHeader(RAW_BODY, CURRENT),
      'webhook-id': 'msg_evt_01JXYZ_wh_1',
      'webhook-timestamp': '1750000000',
      'webhook-signature': expect.stringMatching(/^v1,\S+ v1,\S+$/),
    });
  });

  it('keeps X-Webhook-ID and X-Webhook-Signature stable across retries while webhook-signature follows the timestamp', () => {
    const first = headersFor([CURRENT], { timestampSeconds: 1_750_000_000 });
    const retry = headersFor([CURRENT], { timestampSeconds: 1_750_000_005 });
    expect(retry['X-Webhook-ID']).toBe(first['X-Webhook-ID']);
    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(retry['X-Webhook-Signature']).toBe(first['X-Webhook-Signature']);
    expect(retry['webhook-signature']).not.toBe(first['webhook-signature']);
  });

  it('refuses to sign without a secret', () => {
    expect(() => headersFor([])).toThrow('without a secret');
  });

  it.each([1.5, -1, Number.NaN])('refuses timestampSeconds %p', (timestampSeconds) => {
    expect(() => headersFor([CURRENT], { timestampSeconds })).toThrow(RangeError);
  });

  it('refuses a secret that is not whsec_<base64> (the Standard Webhooks library decodes it)', () => {
    expect(() => headersFor(['whsec_only_shown_once_xxxxxxxx!'])).toThrow();
  });
});

describe('verifySignedDelivery', () => {
  const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
  const rawBody = JSON.stringify({ 'x-api-key': 'sk_test_x', agencyId: 'a-1' });
  const headersOf = (headers: Record<string, string>) => (name: string) => Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const signed = () => signedHeaders({ rawBody, secrets: [secret], deliveryEventId: 'c-1', eventName: 'partner.agency_connected', webhookMessageId: 'm-1', timestampSeconds: Math.floor(Date.now() / 1000) });

  it('accepts either signature scheme on its own', () => {
    const { 'X-Webhook-Signature': plain, ...standard } = signed();
    expect(verifySignedDelivery(rawBody, headersOf(signed()), secret)).toBe(true);
    expect(verifySignedDelivery(rawBody, headersOf({ 'X-Webhook-Signature': plain }), secret)).toBe(true);
    expect(verifySignedDelivery(rawBody, headersOf(standard), secret)).toBe(true);
  });

  it('refuses another body, another secret, no signature, and a stale Standard Webhooks timestamp', () => {
    const other = `whsec_${Buffer.alloc(24, 8).toString('base64')}`;
    expect(verifySignedDelivery(`${rawBody} `, headersOf(signed()), secret)).toBe(false);
    expect(verifySignedDelivery(rawBody, headersOf(signed()), other)).toBe(false);
    expect(verifySignedDelivery(rawBody, headersOf({ 'X-Webhook-Signature': signatureHeader(rawBody, other) }), secret)).toBe(false);
    expect(verifySignedDelivery(rawBody, headersOf({}), secret)).toBe(false);
    const stale = signedHeaders({ rawBody, secrets: [secret], deliveryEventId: 'c-1', eventName: 'e', webhookMessageId: 'm-1', timestampSeconds: Math.floor(Date.now() / 1000) - 3600 });
    const { 'X-Webhook-Signature': _plain, ...staleStandard } = stale;
    expect(verifySignedDelivery(rawBody, headersOf(staleStandard), secret)).toBe(false);
  });
});
