import { randomBytes, randomUUID } from 'node:crypto';
import { WebhookVerificationError, verifyWebhook } from '@immoflow/sdk';
import { signedHeaders } from '../../../src/webhooks/signing';

// The server's own signer is the oracle: the SDK re-implements verification without importing it.
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const event = { eventId: randomUUID(), eventName: 'listing.created', eventPayload: { listingId: randomUUID(), externalRef: 'CRM-1' }, eventTime: new Date().toISOString() };
const rawBody = JSON.stringify(event);
const nowSeconds = () => Math.floor(Date.now() / 1000);

function sign(secrets: string[], options: { body?: string; timestampSeconds?: number } = {}) {
  return signedHeaders({
    rawBody: options.body ?? rawBody,
    secrets,
    deliveryEventId: event.eventId,
    eventName: event.eventName,
    webhookMessageId: event.eventId,
    timestampSeconds: options.timestampSeconds ?? nowSeconds(),
  });
}

/** Only the named headers, as a subscriber behind a proxy that drops the rest would see them. */
function only(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => names.includes(name.toLowerCase())));
}

function failure(run: () => unknown): WebhookVerificationError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw error;
  }
  throw new Error('verification passed');
}

const STANDARD = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];

describe('verifyWebhook', () => {
  it('returns the event for a delivery with both schemes, for string, Buffer and Headers inputs', () => {
    const secret = newSecret();
    const headers = sign([secret]);
    expect(verifyWebhook(rawBody, headers, secret)).toEqual(event);
    expect(verifyWebhook(Buffer.from(rawBody), new Headers(headers), secret)).toEqual(event);
    // Express lower-cases header names; lookup must not depend on case.
    const lowered = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    expect(verifyWebhook(new Uint8Array(Buffer.from(rawBody)), lowered, secret).eventId).toBe(event.eventId);
  });

  it('accepts each scheme alone', () => {
    const secret = newSecret();
    const headers = sign([secret]);
    expect(verifyWebhook(rawBody, only(headers, STANDARD), secret).eventName).toBe('listing.created');
    expect(verifyWebhook(rawBody, only(headers, ['x-webhook-signature']), secret).eventName).toBe('listing.created');
    expect(verifyWebhook(rawBody, only(headers, STANDARD), secret, { scheme: 'standard' }).eventId).toBe(event.eventId);
    expect(verifyWebhook(rawBody, headers, secret, { scheme: 'legacy' }).eventId).toBe(event.eventId);
  });

  it('rejects a tampered body, a wrong secret and missing signatures under both schemes', () => {
    const secret = newSecret();
    const headers = sign([secret]);
    const tampered = rawBody.replace('CRM-1', 'CRM-2');
    for (const names of [STANDARD, ['x-webhook-signature']]) {
      expect(failure(() => verifyWebhook(tampered, only(headers, names), secret)).code).toBe('INVALID_SIGNATURE');
      expect(failure(() => verifyWebhook(rawBody, only(headers, names), newSecret())).code).toBe('INVALID_SIGNATURE');
    }
    expect(failure(() => verifyWebhook(rawBody, only(headers, ['content-type']), secret)).code).toBe('MISSING_SIGNATURE');
    expect(failure(() => verifyWebhook(rawBody, only(headers, ['x-webhook-signature']), secret, { scheme: 'standard' })).code).toBe('MISSING_SIGNATURE');
    expect(failure(() => verifyWebhook(rawBody, only(headers, ['webhook-id', 'webhook-signature']), secret)).code).toBe('MISSING_SIGNATURE');
  });

  it('does not fall back to the legacy header when Standard Webhooks headers are present but fail', () => {
    const secret = newSecret();
    // A captured delivery replayed later: X-Webhook-Signature is still valid, the timestamp is not.
    const old = sign([secret], { timestampSeconds: nowSeconds() - 3600 });
    expect(failure(() => verifyWebhook(rawBody, old, secret)).code).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(verifyWebhook(rawBody, only(old, ['x-webhook-signature']), secret).eventId).toBe(event.eventId);
  });

  it('enforces the timestamp tolerance both ways, configurable', () => {
    const secret = newSecret();
    const at = nowSeconds();
    const headers = only(sign([secret], { timestampSeconds: at }), STANDARD);
    const clock = (offsetSeconds: number) => () => new Date((at + offsetSeconds) * 1000);
    expect(verifyWebhook(rawBody, headers, secret, { now: clock(299) }).eventId).toBe(event.eventId);
    expect(failure(() => verifyWebhook(rawBody, headers, secret, { now: clock(301) })).code).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(failure(() => verifyWebhook(rawBody, headers, secret, { now: clock(-301) })).code).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(verifyWebhook(rawBody, headers, secret, { now: clock(3000), toleranceSeconds: 3600 }).eventId).toBe(event.eventId);
    expect(failure(() => verifyWebhook(rawBody, { ...headers, 'webhook-timestamp': '12e9' }, secret)).code).toBe('INVALID_TIMESTAMP');
  });

  it('verifies during a rotation with either secret (Standard Webhooks carries one entry per secret)', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const headers = sign([current, previous]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook(rawBody, only(headers, STANDARD), previous).eventId).toBe(event.eventId);
    expect(verifyWebhook(rawBody, only(headers, STANDARD), current).eventId).toBe(event.eventId);
    // The legacy header is signed with the current secret only; a subscriber holding both still passes.
    expect(failure(() => verifyWebhook(rawBody, only(headers, ['x-webhook-signature']), previous)).code).toBe('INVALID_SIGNATURE');
    expect(verifyWebhook(rawBody, only(headers, ['x-webhook-signature']), [previous, current]).eventId).toBe(event.eventId);
  });

  it('rejects a signed body that is not an event, and an empty secret', () => {
    const secret = newSecret();
    const body = '{"hello":"world"}';
    expect(failure(() => verifyWebhook(body, sign([secret], { body }), secret)).code).toBe('INVALID_PAYLOAD');
    expect(failure(() => verifyWebhook(rawBody, sign([secret]), '')).code).toBe('INVALID_SECRET');
    expect(failure(() => verifyWebhook(rawBody, sign([secret]), [])).code).toBe('INVALID_SECRET');
  });
});
