import type { ProspectRequest, RequestFailureCode } from './openimmoFeedback';

/** What the contactRequest workflow is started with: the accepted mail, by its row. */
export interface ContactRequestInput {
  orgId: string;
  mailId: string;
}

/** The fields of request.parsing_failed that describe the mail itself (reference 003). */
export interface MailSummary {
  sender: string | null;
  recipient: string;
  subject: string | null;
  /** The text part, cut to BODY_EXCERPT_CHARS. */
  body: string;
}

/**
 * The parse step's answer, recorded by the next step. A mail that is not a request is a verdict,
 * not an error: no retry can put an XML attachment into it.
 */
export type MailVerdict =
  | { kind: 'request'; request: ProspectRequest; listingId: string | null; mail: MailSummary }
  | { kind: 'failed'; failureCode: RequestFailureCode; failureMessage: string; mail: MailSummary }
  /** Erased (GDPR) before it was processed: nothing is left to parse or to tell. */
  | { kind: 'erased' };

export type ContactRequestOutcome = 'created' | 'duplicate' | 'failed' | 'erased';

export interface ContactRequestResult {
  outcome: ContactRequestOutcome;
  requestId: string | null;
  /** The matched listing (for the ListingId search attribute). */
  listingId: string | null;
}

/** reference 003: request.parsing_failed carries the body of the e-mail; ours is bounded. */
export const BODY_EXCERPT_CHARS = 10_000;

const SLUG_MAX = 24;

/**
 * The readable half of an inbox's local part: the organisation's name folded to ASCII, so that
 * an agency recognises its address. The random half (added by the caller) makes it unguessable.
 */
export function organisationSlug(name: string): string {
  const folded = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, '');
  return folded || 'org';
}

/** `<org-slug>.<random>@<domain>`, lower case (addresses are compared lower-cased). */
export function inboxAddress(orgName: string, random: string, domain: string): string {
  return `${organisationSlug(orgName)}.${random.toLowerCase()}@${domain.toLowerCase()}`;
}

/** The bare, lower-cased address of `Name <addr>` or `addr`; null when there is none. */
export function bareAddress(text: string | null | undefined): string | null {
  if (!text) return null;
  const bracketed = /<([^<>\s]+@[^<>\s]+)>/.exec(text);
  const address = bracketed ? bracketed[1] : text.trim();
  return /^[^\s@]+@[^\s@]+$/.test(address) ? address.toLowerCase() : null;
}

/**
 * The key that makes one message one request however often it arrives: its Message-ID, or the
 * hash of its bytes when it has none (the caller hashes; the domain stays free of node APIs).
 */
export function messageKey(messageId: string | null, rawSha256Hex: string): string {
  const id = messageId?.trim().replace(/^<|>$/g, '');
  return id ? `id:${id}` : `sha256:${rawSha256Hex}`;
}

/** request.parsing_failed's payload: exactly the fields of reference 003, in its order. */
export function parsingFailedPayload(inboxId: string, failureCode: RequestFailureCode, failureMessage: string, mail: MailSummary, createdAt: Date) {
  return {
    targetId: inboxId,
    createdAt: createdAt.toISOString(),
    failureCode,
    failureMessage,
    sender: mail.sender,
    recipient: mail.recipient,
    subject: mail.subject,
    body: mail.body.slice(0, BODY_EXCERPT_CHARS),
  };
}

/**
 * The Message-ID from a raw header block (unfolded first, RFC 5322 §2.2.3), without brackets.
 * The ingress needs nothing else before it answers, so it does not decode the whole header.
 */
export function messageIdFromHeaders(headerBlock: string): string | null {
  const unfolded = headerBlock.replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:[ \t]*(.*)$/im.exec(unfolded);
  if (!match) return null;
  const value = match[1].trim();
  const bracketed = /<([^<>]+)>/.exec(value);
  const id = (bracketed ? bracketed[1] : value).replace(/^<|>$/g, '').trim();
  return id || null;
}
