/**
 * URL attachments of a listing (issue 12): the rules the API, the propertyProcessing workflow and
 * its activities share. Pure code: no I/O, safe to import from workflows.
 */

export const ATTACHMENT_KINDS = ['image', 'floor_plan', 'document', 'energy_certificate'] as const;
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];

export const ATTACHMENT_STATES = ['pending', 'fetching', 'ready', 'failed'] as const;
export type AttachmentState = (typeof ATTACHMENT_STATES)[number];

export const ATTACHMENT_FAILURE_CODES = [
  'url_unreachable',
  'dns_failed',
  'private_address_blocked',
  'http_4xx',
  'http_5xx',
  'too_large',
  'unsupported_type',
  'timeout',
  'decode_failed',
  'too_many_redirects',
] as const;
export type AttachmentFailureCode = (typeof ATTACHMENT_FAILURE_CODES)[number];

export interface AttachmentFailure {
  code: AttachmentFailureCode;
  message: string;
}

/** At most this many attachments per listing (a write with more is a 400). */
export const MAX_ATTACHMENTS_PER_LISTING = 150;
export const MAX_ATTACHMENT_URL_LENGTH = 2048;
/** Redirects followed by hand, each hop checked by the SSRF guard again. */
export const MAX_ATTACHMENT_REDIRECTS = 5;
/** Retries of a transient failure (5xx, timeout, reset) after the first attempt. */
export const MAX_ATTACHMENT_RETRIES = 3;

/** Failures that another attempt may cure; everything else is final at once. */
const TRANSIENT: ReadonlySet<AttachmentFailureCode> = new Set(['http_5xx', 'timeout', 'url_unreachable']);
export const isTransientFailure = (code: AttachmentFailureCode): boolean => TRANSIENT.has(code);

export const IMAGE_ATTACHMENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif'] as const;
export const DOCUMENT_ATTACHMENT_TYPES = ['application/pdf'] as const;

/** What each kind may contain, judged by magic bytes: photos are images, documents are PDFs. */
const ACCEPTED_TYPES: Record<AttachmentKind, readonly string[]> = {
  image: IMAGE_ATTACHMENT_TYPES,
  floor_plan: [...IMAGE_ATTACHMENT_TYPES, ...DOCUMENT_ATTACHMENT_TYPES],
  document: DOCUMENT_ATTACHMENT_TYPES,
  energy_certificate: [...DOCUMENT_ATTACHMENT_TYPES, ...IMAGE_ATTACHMENT_TYPES],
};

export function acceptedTypes(kind: AttachmentKind): readonly string[] {
  return ACCEPTED_TYPES[kind];
}

/** The sniffed type (file-type's mime, undefined when unknown) against the kind; null when fine. */
export function checkAttachmentType(kind: AttachmentKind, detectedMime: string | undefined): AttachmentFailure | null {
  if (detectedMime && ACCEPTED_TYPES[kind].includes(detectedMime)) return null;
  return {
    code: 'unsupported_type',
    message: `The content is ${detectedMime ?? 'of an unknown type'}; a ${kind} attachment must be ${ACCEPTED_TYPES[kind].join(', ')}.`,
  };
}

export const isImageType = (mime: string | null | undefined): boolean => (IMAGE_ATTACHMENT_TYPES as readonly string[]).includes(mime ?? '');

/** The failure an HTTP status means; null for a 2xx. 3xx are redirects, handled by the fetcher. */
export function failureForStatus(status: number): AttachmentFailure | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 500) return { code: 'http_5xx', message: `The server answered ${status}.` };
  if (status >= 400) return { code: 'http_4xx', message: `The server answered ${status}.` };
  return { code: 'url_unreachable', message: `Unexpected status ${status}.` };
}

export const isRedirect = (status: number): boolean => [301, 302, 303, 307, 308].includes(status);

/**
 * Static checks of an attachment URL at write time (the SSRF guard's static checks run too):
 * https, or http only for an allow-listed target; at most 2048 characters. Null when fine.
 */
export function checkAttachmentUrlShape(url: string): string | null {
  if (url.length > MAX_ATTACHMENT_URL_LENGTH) return `at most ${MAX_ATTACHMENT_URL_LENGTH} characters`;
  if (!/^https?:\/\//i.test(url)) return 'an https URL';
  return null;
}

/** One attachment as a write asks for it, index = its position in the request. */
export interface AttachmentRequest {
  url: string;
  kind: AttachmentKind;
  title?: string | null;
  sort_order?: number | null;
  is_title?: boolean | null;
}

/** What the store already holds for the listing, in position order. */
export interface ExistingAttachment {
  id: string;
  url: string;
  kind: AttachmentKind;
  title: string | null;
  sort_order: number;
  is_title: boolean;
  state: AttachmentState;
  position: number;
}

export interface PlannedAttachment {
  /** The existing row this request keeps (same URL and kind), or null for a new one. */
  keepId: string | null;
  position: number;
  url: string;
  kind: AttachmentKind;
  title: string | null;
  sort_order: number;
  is_title: boolean;
  /** Whether it must be fetched: new, or kept but not ready (a failed fetch is tried again). */
  fetch: boolean;
}

export interface AttachmentPlan {
  attachments: PlannedAttachment[];
  removedIds: string[];
  /** Whether the write adds, removes or changes anything (then a propertyProcessing run is owed). */
  changed: boolean;
}

/**
 * Replaces a listing's attachments by the requested list, in request order. An unchanged URL of
 * the same kind keeps its row (id, stored object, sha256, ETag): once ready it is only
 * revalidated (see `revalidationOf`), never downloaded blindly. Duplicate URLs match existing
 * rows one for one.
 */
export function planAttachments(existing: ExistingAttachment[], requested: AttachmentRequest[]): AttachmentPlan {
  const unused = [...existing].sort((a, b) => a.position - b.position);
  const attachments = requested.map((request, position): PlannedAttachment => {
    const index = unused.findIndex((row) => row.url === request.url && row.kind === request.kind);
    const kept = index >= 0 ? unused.splice(index, 1)[0] : null;
    return {
      keepId: kept?.id ?? null,
      position,
      url: request.url,
      kind: request.kind,
      title: request.title ?? null,
      sort_order: request.sort_order ?? position,
      is_title: request.is_title === true,
      fetch: !kept || kept.state === 'failed',
    };
  });
  const removedIds = unused.map((row) => row.id);
  const byId = new Map(existing.map((row) => [row.id, row]));
  const changed =
    removedIds.length > 0 ||
    attachments.some((planned) => {
      if (!planned.keepId || planned.fetch) return true;
      const before = byId.get(planned.keepId) as ExistingAttachment;
      return before.position !== planned.position || before.title !== planned.title || before.sort_order !== planned.sort_order || before.is_title !== planned.is_title;
    });
  return { attachments, removedIds, changed };
}

/** What a ready attachment's last fetch left to tell an unchanged resource by. */
export interface KnownContent {
  /** The origin's ETag, sent as If-None-Match: a 304 means nothing is downloaded. */
  etag: string;
  /** A 200 whose body hashes to this is the same content: the stored copy and variants stay. */
  sha256: string | null;
}

/**
 * Whether a processing run revalidates a ready attachment it keeps: only when the origin gave an
 * ETag (a conditional GET costs a round trip, no body). Without one the kept copy stands; the
 * sha256 from its fetch says what it holds. Null means: settled as it is, no request at all.
 */
export function revalidationOf(row: { state: AttachmentState; etag: string | null; sha256: string | null }): KnownContent | null {
  if (row.state !== 'ready' || !row.etag) return null;
  return { etag: row.etag, sha256: row.sha256 };
}

/** The title image: the one marked is_title, else the first image (in position order); -1 if none. */
export function titleImageIndex(attachments: { kind: AttachmentKind; is_title: boolean }[]): number {
  const marked = attachments.findIndex((attachment) => attachment.is_title);
  if (marked >= 0) return marked;
  return attachments.findIndex((attachment) => attachment.kind === 'image');
}

/**
 * How long a fetch whose host has no free slot in its worker waits before it tries again: the
 * activity gave its slot back (so other hosts' fetches run meanwhile), and the run retries after
 * 1, 2, 4 … at most 30 s, so a long wait adds only a few events to its history.
 */
export function hostBusyBackoffMs(attempt: number): number {
  return Math.min(1000 * 2 ** attempt, 30_000);
}

/** The host an attachment is fetched from, lower case, for the per-host concurrency limit. */
export function hostOf(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(url);
  return (match?.[1] ?? '').toLowerCase();
}

/**
 * The next items to start, in queue order, given what is running: at most `perListing` at a
 * time overall and `perHost` per host, so one slow host cannot take every slot. Deterministic.
 */
export function pickRunnable<T extends { host: string }>(queue: T[], running: T[], limits: { perListing: number; perHost: number }): T[] {
  const picked: T[] = [];
  const perHost = new Map<string, number>();
  for (const item of running) perHost.set(item.host, (perHost.get(item.host) ?? 0) + 1);
  for (const item of queue) {
    if (running.length + picked.length >= limits.perListing) break;
    const count = perHost.get(item.host) ?? 0;
    if (count >= limits.perHost) continue;
    perHost.set(item.host, count + 1);
    picked.push(item);
  }
  return picked;
}

export interface PropertyProcessingInput {
  orgId: string;
  listingId: string;
  externalRef: string;
  /** The listing revision whose write changed the attachments (`attachments_revision`). */
  revision: number;
  /** Attachments the write removed: their stored original and variants are deleted. */
  removed: { id: string; objectKey: string | null }[];
}

export interface AttachmentOutcome {
  id: string;
  state: 'ready' | 'failed';
  failure?: AttachmentFailure;
}

/** The first failure in position order decides the failed event's failureCode and message. */
export function firstFailure(outcomes: AttachmentOutcome[]): AttachmentFailure | null {
  return outcomes.find((outcome) => outcome.state === 'failed')?.failure ?? null;
}

const ATTACHMENT_ID_PATTERN = /^att_[0-9a-f]{24}$/;
export const isAttachmentId = (value: unknown): value is string => typeof value === 'string' && ATTACHMENT_ID_PATTERN.test(value);

/**
 * Where one revision's fetch of an attachment is stored. Per revision, so that revalidating a
 * ready attachment never overwrites (or, failing, deletes) the copy its row still points at.
 */
export const attachmentObjectKey = (orgId: string, listingId: string, attachmentId: string, revision: number) => `${orgId}/${listingId}/${attachmentId}/r${revision}`;
