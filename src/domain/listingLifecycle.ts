/**
 * The listing lifecycle (reference 000, step 3). `status` is what the CRM asks for; whether the
 * listing is live on the portal is the publication state, decided by the publish pipeline.
 */
export const LISTING_STATUSES = ['draft', 'active', 'rented', 'archived'] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

const TRANSITIONS: Record<ListingStatus, readonly ListingStatus[]> = {
  draft: ['active', 'archived'],
  active: ['draft', 'rented', 'archived'],
  rented: ['active', 'archived'],
  archived: ['draft'],
};

export function canTransition(from: ListingStatus, to: ListingStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export function allowedTransitions(from: ListingStatus): readonly ListingStatus[] {
  return TRANSITIONS[from];
}

/** Only a move into `active` from elsewhere publishes (and emits listing.published). */
export function isActivation(from: ListingStatus | null, to: ListingStatus): boolean {
  return to === 'active' && from !== 'active';
}

export type PublicationState = 'unpublished' | 'pending' | 'published' | 'rejected' | 'needs_review';
