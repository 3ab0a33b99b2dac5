import { createHmac, timingSafeEqual } from 'node:crypto';
import type { webhooks } from './schema';

/** The envelope of every delivery (docs/WEBHOOKS.md). */
export interface WebhookEvent<Payload = Record<string, unknown>> {
  /** Identical on every retry of the event: de-duplicate on it. */
  eventId: string;
  eventName: string;
  eventPayload: Payload;
  eventTime: string;
}

type WebhookBody<Name extends keyof webhooks> = webhooks[Name] extends { post: { requestBody: { content: { 'application/json': infer Body } } } } ? Body : never;

/** What `POST /api/v1/webhooks/{id}/test` sends; not an event of the log, so not in the document's `webhooks`. */
export interface WebhookTestEvent extends WebhookEvent<{ webhookId: string; message: string }> {
  eventName: 'webhook.test';
}

/**
 * Every event Immoflow delivers, discriminated by `eventName` (from the `webhooks` section of the
 * OpenAPI document), so `if (event.eventName === 'listing.published')` types `eventPayload`.
 */
export type ImmoflowWebhookEvent = { [Name in keyof webhooks]: WebhookBody<Name> }[keyof webhooks] | WebhookTestEvent;

export type WebhookVerificationErrorCode =
  | 'MISSING_SIGNATURE'
  | 'INVALID_SIGNATURE'
  | 'INVALID_TIMESTAMP'
  | 'TIMESTAMP_OUT_OF_TOLERANCE'
  | 'INVALID_SECRET'
  | 'INVALID_PAYLOAD';

/** The delivery is not authentic (or not readable): answer it with a 4xx and do not act on it. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly code: WebhookVerificationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Node's IncomingHttpHeaders (express `req.headers`), a fetch Headers, or a plain record. */
export type WebhookHeaders = Headers | { get(name: string): string | null | undefined } | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /**
   * Which signatures may authenticate the delivery. `any` (default): the Standard Webhooks headers
   * when present — then they must verify, so their replay window cannot be sidestepped by the
   * legacy header on the same request — else `X-Webhook-Signature`. `standard` rejects deliveries
   * without Standard Webhooks headers: the strict choice, since `X-Webhook-Signature` has no
   * timestamp and a captured delivery stripped of its `webhook-*` headers verifies forever.
   */
  scheme?: 'any' | 'standard' | 'legacy';
  /** Accepted distance of `webhook-timestamp` from now, both ways. Default 300 s (the Standard Webhooks default). */
  toleranceSeconds?: number;
  /** For tests: the current time. */
  now?: () => Date;
}

/**
 * Checks an Immoflow delivery and returns its event. `rawBody` must be the bytes as received (for
 * Express, `express.raw({ type: 'application/json' })`): a re-serialized `req.body` differs in
 * whitespace or key order and fails. `secret` is the `whsec_…` string from create or
 * rotate-secret; pass `[current, previous]` during a rotation. Throws WebhookVerificationError.
 *
 * Immoflow signs each delivery twice (src/webhooks/signing.ts):
 * - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key = base64-decoded part after
 *   whsec_, data = "<webhook-id>.<webhook-timestamp>.<body>")>`, one entry per valid secret.
 * - Legacy: `X-Webhook-Signature: sha256=<hex HMAC-SHA256(key = the whole whsec_… string as UTF-8, data = body)>`.
 */
export function verifyWebhook<Event extends WebhookEvent<unknown> = ImmoflowWebhookEvent>(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Event {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((value) => typeof value !== 'string' || value.length === 0)) {
    throw new WebhookVerificationError('INVALID_SECRET', 'no webhook secret given');
  }
  const header = headerReader(headers);
  const scheme = options.scheme ?? 'any';
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signature = header('webhook-signature');
  const hasStandard = Boolean(id || timestamp || signature);

  if (scheme === 'standard' || (scheme === 'any' && hasStandard)) {
    if (!id || !timestamp || !signature) throw new WebhookVerificationError('MISSING_SIGNATURE', 'webhook-id, webhook-timestamp and webhook-signature are all required');
    verifyStandard(body, id, timestamp, signature, secrets, options);
  } else {
    const legacy = header('x-webhook-signature');
    if (!legacy) throw new WebhookVerificationError('MISSING_SIGNATURE', 'neither Standard Webhooks headers nor X-Webhook-Signature present');
    verifyLegacy(body, legacy, secrets);
  }
  return parseEvent(body) as Event;
}

function verifyStandard(body: Buffer, id: string, timestamp: string, signature: string, secrets: string[], options: VerifyWebhookOptions): void {
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError('INVALID_TIMESTAMP', 'webhook-timestamp is not unix seconds');
  const nowSeconds = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError('TIMESTAMP_OUT_OF_TOLERANCE', `webhook-timestamp is more than ${tolerance} s from now (replayed or clock skew)`);
  }
  const presented = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = createHmac('sha256', standardKey(secret)).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
    if (presented.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return;
  }
  throw new WebhookVerificationError('INVALID_SIGNATURE', 'no webhook-signature entry matches this secret');
}

/** As the standardwebhooks library reads a secret: base64 after an optional whsec_ prefix. */
function standardKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('INVALID_SECRET', 'the secret is not whsec_<base64>');
  return key;
}

function verifyLegacy(body: Buffer, header: string, secrets: string[]): void {
  const presented = Buffer.from(header.trim(), 'utf8');
  for (const secret of secrets) {
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`, 'utf8');
    if (presented.length === expected.length && timingSafeEqual(presented, expected)) return;
  }
  throw new WebhookVerificationError('INVALID_SIGNATURE', 'X-Webhook-Signature does not match this secret');
}

/** Checks the envelope only: the payload is Immoflow's, authenticated by the signature. */
function parseEvent(body: Buffer): WebhookEvent<unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('INVALID_PAYLOAD', 'the signed body is not JSON');
  }
  const event = parsed as Partial<WebhookEvent<unknown>> | null;
  if (!event || typeof event.eventId !== 'string' || typeof event.eventName !== 'string' || typeof event.eventTime !== 'string' || typeof event.eventPayload !== 'object' || event.eventPayload === null) {
    throw new WebhookVerificationError('INVALID_PAYLOAD', 'the signed body is not an Immoflow event envelope');
  }
  return event as WebhookEvent<unknown>;
}

function headerReader(headers: WebhookHeaders): (name: string) => string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const getter = headers as { get(name: string): string | null | undefined };
    return (name) => getter.get(name) ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (value === undefined) continue;
    // Node joins repeated headers into an array; a signature header repeated is as good as space-joined.
    lower.set(name.toLowerCase(), Array.isArray(value) ? value.join(' ') : value);
  }
  return (name) => lower.get(name);
}
