/**
 * Signing of webhook deliveries. Every delivery carries two independent signatures:
 *
 * 1. `X-Webhook-Signature: sha256=<hex>` (reference 002): HMAC-SHA256 over the raw body. The key is
 *    the secret string exactly as the subscriber stores it — the whole `whsec_…` text as UTF-8 bytes,
 *    NOT its base64-decoded part — because the reference's Node snippet verifies with
 *    `crypto.createHmac("sha256", WEBHOOK_SECRET)` where WEBHOOK_SECRET is the `whsec_…` string.
 *    Signed with the current secret only.
 *
 * 2. Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), produced with the
 *    `standardwebhooks` library: HMAC-SHA256 over `${id}.${timestamp}.${body}`, keyed with the
 *    base64-DECODED bytes after the `whsec_` prefix. One `v1,<base64>` entry per secret (current
 *    first, then still-valid previous ones), so verifiers holding either secret accept it during a
 *    rotation.
 *
 * The body must be sent as exactly `Buffer.from(rawBody, 'utf8')`: both signatures cover those bytes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const WEBHOOK_USER_AGENT = 'Immoflow-Webhooks/1.0';

/** `sha256=<hex HMAC-SHA256(key = UTF-8 bytes of the full whsec_… string, data = UTF-8 raw body)>`. */
export function signatureHeader(rawBody: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

export interface SignedHeadersInput {
  /** The exact JSON text that is sent as the request body. */
  rawBody: string;
  /** Current secret first, then previous secrets still inside their rotation window. Each `whsec_<base64>`. */
  secrets: string[];
  /** The event's id: X-Webhook-ID, identical on every retry (subscribers de-duplicate on it). */
  deliveryEventId: string;
  eventName: string;
  /** Standard Webhooks message id (`webhook-id`). */
  webhookMessageId: string;
  /** Unix time in whole seconds of this attempt (`webhook-timestamp`). */
  timestampSeconds: number;
}

export function signedHeaders(input: SignedHeadersInput): Record<string, string> {
  const { rawBody, secrets, deliveryEventId, eventName, webhookMessageId, timestampSeconds } = input;
  if (secrets.length === 0) throw new Error('cannot sign a webhook delivery without a secret');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`timestampSeconds must be a non-negative integer, got ${timestampSeconds}`);
  }
  const timestamp = new Date(timestampSeconds * 1000);
  const standardSignatures = secrets.map((secret) => new Webhook(secret).sign(webhookMessageId, timestamp, rawBody));
  return {
    'Content-Type': 'application/json',
    'User-Agent': WEBHOOK_USER_AGENT,
    'X-Webhook-ID': deliveryEventId,
    'X-Event-Type': eventName,
    'X-Webhook-Signature': signatureHeader(rawBody, secrets[0]),
    'webhook-id': webhookMessageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': standardSignatures.join(' '),
  };
}

/**
 * Checks a delivery signed the way Immoflow signs (either scheme is enough): Standard Webhooks
 * headers, which also bound replay by their timestamp (five minutes, the library's tolerance), or `X-Webhook-Signature`. `headers` are
 * looked up case-insensitively.
 */
export function verifySignedDelivery(rawBody: string, headers: (name: string) => string | undefined, secret: string): boolean {
  const id = headers('webhook-id');
  const timestamp = headers('webhook-timestamp');
  const signature = headers('webhook-signature');
  if (id && timestamp && signature) {
    try {
      new Webhook(secret).verify(rawBody, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature });
      return true;
    } catch {
      return false;
    }
  }
  const plain = headers('x-webhook-signature');
  if (!plain) return false;
  const expected = Buffer.from(signatureHeader(rawBody, secret));
  const presented = Buffer.from(plain.trim());
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
