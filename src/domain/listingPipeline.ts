import type { ModerationOutcome, ModerationReason } from './moderation';

/** Arguments of the listingPublish workflow; persisted in the outbox, so plain JSON only. */
export interface ListingPublishInput {
  orgId: string;
  listingId: string;
  revision: number;
  externalRef: string;
  /** draft/rented/archived → active in this write. */
  activating: boolean;
  wasPublished: boolean;
  /** Geocode only when the address changed (or was never geocoded). */
  addressChanged: boolean;
  action: 'set' | 'delete';
  /** The run of an older revision still waiting for a review: this write ends its wait. */
  supersedes?: string;
}

export interface ReviewDecision {
  approve: boolean;
  reason: string;
  reviewer?: string;
}

export interface ListingPublishResult {
  outcome: ModerationOutcome | 'superseded' | 'deleted';
  publicationState?: string;
}

export interface FinalModeration {
  outcome: Exclude<ModerationOutcome, 'needs_review'> | 'needs_review';
  reasons: ModerationReason[];
}

/** Turns an operator's decision (or the review timeout) into the final moderation outcome. */
export function resolveReview(
  pending: { reasons: ModerationReason[] },
  decision: ReviewDecision | undefined,
  timeoutOutcome: 'approved' | 'rejected',
): FinalModeration {
  if (!decision) {
    return {
      outcome: timeoutOutcome,
      reasons: [
        ...pending.reasons,
        { code: 'REVIEW_TIMEOUT', message: `No operator decision within the review timeout; the listing was ${timeoutOutcome}.`, severity: timeoutOutcome === 'rejected' ? 'reject' : 'review' },
      ] as ModerationReason[],
    };
  }
  return {
    outcome: decision.approve ? 'approved' : 'rejected',
    reasons: [
      ...pending.reasons,
      {
        code: decision.approve ? 'OPERATOR_APPROVED' : 'OPERATOR_REJECTED',
        message: decision.reason,
        severity: decision.approve ? 'review' : 'reject',
      },
    ] as ModerationReason[],
  };
}

export function geocodingTaskQueue(mainTaskQueue: string): string {
  return `${mainTaskQueue}-geocoding`;
}
