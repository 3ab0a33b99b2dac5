/**
 * Publication of listings to targets (portals Immoflow pushes to as their CRM partner): what a
 * target should hold, which push that takes, and how a target's answer is judged. Pure, so the
 * `publication` workflow and its activities share one set of rules.
 */

export const PUBLICATION_FAILURE_CODES = ['validation_failed', 'quota_exceeded', 'unauthorized', 'target_unavailable', 'rate_limited'] as const;
export type PublicationFailureCode = (typeof PUBLICATION_FAILURE_CODES)[number];

/** Failures that go away on their own; the workflow waits and pushes again. */
const TRANSIENT: ReadonlySet<PublicationFailureCode> = new Set(['target_unavailable', 'rate_limited']);
export const isTransientFailure = (code: PublicationFailureCode): boolean => TRANSIENT.has(code);

export const PUBLICATION_SIGNALS = { sync: 'sync' } as const;

/** Arguments of `publication:<listingId>:<targetId>`; persisted in the outbox, so plain JSON. */
export interface PublicationInput {
  orgId: string;
  listingId: string;
  targetId: string;
  /** Waits between pushes that failed transiently; the last one repeats. */
  retryScheduleMs: number[];
  /** Syncs a previous run still owed when it continued as new. */
  owed?: SyncRequest[];
}

export interface SyncRequest {
  /**
   * A drift repair's id: push even when Immoflow believes the target is up to date, under
   * idempotency keys of this repair (the target may have lost what the earlier keys stand for).
   */
  repair?: string;
}

export interface SyncOutcome {
  /** `busy`: another push of the same listing and target holds its lease; try after `retryAfterMs`. */
  status: 'published' | 'deleted' | 'unchanged' | 'failed' | 'retry' | 'busy';
  failureCode?: PublicationFailureCode;
  /** For `retry`: the target asked for this wait (Retry-After), or none and the schedule decides. */
  retryAfterMs?: number;
}

/**
 * Arguments of `publication-backfill:<targetId>:<orgId>:<eventId>`: after a connect or a
 * disconnect, one workflow brings every listing of the organisation to the target page by page,
 * instead of one workflow per listing. Only a listing whose push must wait (the target is down,
 * rate-limiting, or another push holds the listing) is handed to its own `publication` workflow.
 */
export interface BackfillInput {
  orgId: string;
  targetId: string;
  retryScheduleMs: number[];
  /** Resume after this listing id (listings are visited in id order). */
  after?: string;
  /** Counts of the runs before a continue-as-new. */
  totals?: BackfillTotals;
}

export interface BackfillTotals {
  published: number;
  deleted: number;
  unchanged: number;
  /** Refused for good by the target (validation, quota, key): recorded with `publication.failed`. */
  failed: number;
  /** Left to the listing's own `publication` workflow, which waits for the target and retries. */
  handedOver: number;
}

export interface BackfillPage {
  totals: BackfillTotals;
  /** The last listing id of this page, or null when the organisation has no more. */
  next: string | null;
  /** The target asked Immoflow to wait (Retry-After) before this page began: nothing was pushed. */
  pausedMs?: number;
}

export const emptyBackfillTotals = (): BackfillTotals => ({ published: 0, deleted: 0, unchanged: 0, failed: 0, handedOver: 0 });

export function addBackfillTotals(a: BackfillTotals, b: BackfillTotals): BackfillTotals {
  return {
    published: a.published + b.published,
    deleted: a.deleted + b.deleted,
    unchanged: a.unchanged + b.unchanged,
    failed: a.failed + b.failed,
    handedOver: a.handedOver + b.handedOver,
  };
}

/** Where one backfilled listing's sync outcome is counted; `handedOver` owes its workflow a sync. */
export function backfillDisposition(outcome: SyncOutcome): keyof BackfillTotals {
  switch (outcome.status) {
    case 'published':
      return 'published';
    case 'deleted':
      return 'deleted';
    case 'unchanged':
      return 'unchanged';
    case 'failed':
      return 'failed';
    case 'retry':
    case 'busy':
      return 'handedOver';
  }
}

/**
 * A push holds its (listing, target) lease this long at most: the push activity's own timeout, so
 * the lease of a worker that died mid-push frees itself when a retry could run anyway.
 */
export const PUBLICATION_LEASE_MS = 5 * 60_000;

/** A push that found its pair leased looks again after this long, or when the lease runs out if sooner. */
export function leaseBusyWait(leaseRemainingMs: number): number {
  return Math.max(100, Math.min(leaseRemainingMs, 1000));
}

export interface PublicationView {
  remoteId: string | null;
  pushedRevision: number | null;
  pushedImageIds: string[];
  state: 'pending' | 'published' | 'failed' | 'deleted';
}

export interface PublicationWish {
  /** The listing is live on Immoflow (active and approved), the connection is up, the target enabled. */
  present: boolean;
  revision: number;
  readyImageIds: string[];
  force: boolean;
}

export type PublicationAction = 'upsert' | 'delete' | 'none';

/** The one push that brings the target to what Immoflow holds, or none. */
export function decidePublicationAction(wish: PublicationWish, current: PublicationView | undefined): PublicationAction {
  if (!wish.present) return current?.remoteId ? 'delete' : 'none';
  if (wish.force || !current || current.state !== 'published' || current.pushedRevision !== wish.revision) return 'upsert';
  const pushed = new Set(current.pushedImageIds);
  const sameGallery = pushed.size === wish.readyImageIds.length && wish.readyImageIds.every((id) => pushed.has(id));
  return sameGallery ? 'none' : 'upsert';
}

export interface TargetVerdict {
  ok: boolean;
  failureCode?: PublicationFailureCode;
  message?: string;
  /** The target's `details.fields` on a validation error. */
  fields?: unknown;
  retryAfterMs?: number;
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: { fields?: unknown } };
}

/**
 * Judges a target's answer to a listings API call (reference 000 error codes). A 404 is the
 * dark-shipped write API switched off for the agency, which an operator turns back on: it waits.
 */
export function judgeTargetResponse(status: number, body: unknown, retryAfterMs?: number): TargetVerdict {
  if (status >= 200 && status < 300) return { ok: true };
  const error = (body as ErrorBody | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const text = typeof error?.message === 'string' ? error.message : undefined;
  const said = (fallback: string) => `${fallback} (HTTP ${status}${code ? ` ${code}` : ''}${text ? `: ${text}` : ''})`;
  if (status === 400 || status === 422) return { ok: false, failureCode: 'validation_failed', message: said('The target rejected the listing'), fields: error?.details?.fields };
  if (status === 401 || (status === 403 && code === 'INSUFFICIENT_SCOPE')) return { ok: false, failureCode: 'unauthorized', message: said('The target refused the agency key') };
  if (status === 403) return { ok: false, failureCode: 'quota_exceeded', message: said('The target refused the listing under its plan or quota') };
  if (status === 429) return { ok: false, failureCode: 'rate_limited', message: said('The target is rate-limiting Immoflow'), retryAfterMs };
  if (status === 409 && code === 'IDEMPOTENCY_KEY_REUSED') return { ok: false, failureCode: 'validation_failed', message: said('The target holds another request under this push\'s idempotency key') };
  return { ok: false, failureCode: 'target_unavailable', message: said('The target is not answering its listings API'), retryAfterMs };
}

/** The wait before the `attempt`-th retry (1-based); the schedule's last entry repeats. */
export function publicationRetryDelay(scheduleMs: number[], attempt: number): number {
  if (scheduleMs.length === 0) return 60_000;
  return scheduleMs[Math.min(attempt, scheduleMs.length) - 1] ?? scheduleMs[0];
}

/** Listing fields a target's listings API receives (reference 000), and the drift sweep compares. */
export const PUSHED_LISTING_FIELDS = [
  'title',
  'description',
  'property_type',
  'marketing_type',
  'street',
  'house_number',
  'zip_code',
  'city',
  'country',
  'living_area',
  'rooms',
  'floor',
  'rent_cold',
  'rent_warm',
  'service_charges',
  'deposit',
  'purchase_price',
  'available_from',
  'energy_certificate',
] as const;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value ?? null;
}

/**
 * The pushed content as one stable text: the same listing read from Immoflow or from the target
 * gives the same text, so the drift sweep can tell a listing changed on the target.
 */
export function listingFingerprint(listing: Partial<Record<(typeof PUSHED_LISTING_FIELDS)[number], unknown>>): string {
  return JSON.stringify(PUSHED_LISTING_FIELDS.map((field) => canonical(listing[field])));
}

export interface RemoteListing {
  id: string;
  external_ref: string;
  status: string;
  fingerprint: string;
}

export interface PushedListing {
  listingId: string;
  externalRef: string;
  /** Immoflow wants it on the target. */
  present: boolean;
  fingerprint: string | null;
  /** Immoflow's record says the target holds this very revision (no push in flight or failing). */
  inSync: boolean;
  /** Immoflow's record of the listing's id on the target. */
  remoteId: string | null;
}

export interface DriftPlan {
  /** Listings Immoflow believes are up to date there, but are missing, changed or not active: pushed again. */
  repush: string[];
  /** Listings the target holds and Immoflow knows it holds but does not want there: their workflow deletes them. */
  resync: string[];
  /** Copies Immoflow has no record of pushing, of listings it does not want there: deleted by the sweep. */
  deleteRemote: { remoteId: string; externalRef: string }[];
  /** Listings on the target that Immoflow never held: left alone. */
  foreign: number;
}

/**
 * Compares what the target reports with what Immoflow pushed. Only listings whose external_ref
 * Immoflow knows are touched: an agency may keep listings of its own on the portal. A listing
 * whose push is in flight (or failing) is its workflow's business, not drift: repairing it too
 * would push it twice.
 */
export function planDriftRepair(remote: RemoteListing[], ours: PushedListing[]): DriftPlan {
  const byRef = new Map(ours.map((listing) => [listing.externalRef, listing]));
  const seen = new Set<string>();
  const plan: DriftPlan = { repush: [], resync: [], deleteRemote: [], foreign: 0 };
  for (const item of remote) {
    const mine = byRef.get(item.external_ref);
    if (!mine) {
      plan.foreign += 1;
      continue;
    }
    seen.add(item.external_ref);
    if (!mine.present) {
      if (mine.remoteId) plan.resync.push(mine.listingId);
      else plan.deleteRemote.push({ remoteId: item.id, externalRef: item.external_ref });
    } else if (mine.inSync && (item.status !== 'active' || item.fingerprint !== mine.fingerprint)) {
      plan.repush.push(mine.listingId);
    }
  }
  for (const mine of ours) if (mine.present && mine.inSync && !seen.has(mine.externalRef)) plan.repush.push(mine.listingId);
  return plan;
}

/** One connection's drift sweep, as the resync workflow reports it to operators. */
export interface DriftReport {
  targetId: string;
  orgId: string;
  /** Listings the target reported. */
  remote: number;
  repushed: number;
  /** Listings handed back to their publication workflow to be taken down. */
  resynced: number;
  deleted: number;
  /** Listings on the target that Immoflow never held, left alone. */
  foreign: number;
  error?: string;
}
