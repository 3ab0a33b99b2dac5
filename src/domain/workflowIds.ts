/**
 * Deterministic workflow ids (DESIGN §5, §6). The same unit of work always maps to the same id,
 * so a second start (two outbox claimers racing, a retried request) finds the first run
 * instead of doing the work twice. Keep every builder here so the id scheme is greppable.
 */
export const workflowIds = {
  listingPublish: (listingId: string, revision: number) => `listing-publish:${listingId}:r${revision}`,
  imageIngest: (imageId: string) => `image-ingest:${imageId}`,
  imageRemoval: (imageId: string) => `image-removal:${imageId}`,
  propertyProcessing: (listingId: string, revision: number) => `property-processing:${listingId}:r${revision}`,
  webhookDelivery: (deliveryId: string) => `webhook-delivery:${deliveryId}`,
  partnerOnboarding: (partnerId: string, agencyId: string) => `partner-onboarding:${partnerId}:${agencyId}`,
  publication: (listingId: string, targetId: string) => `publication:${listingId}:${targetId}`,
  /** `eventId`: the `target.connected` or `target.disconnected` event the backfill answers. */
  publicationBackfill: (targetId: string, orgId: string, eventId: string) => `publication-backfill:${targetId}:${orgId}:${eventId}`,
  /** `messageHash`: the SHA-256 of the organisation and the mail's Message-ID (src/requests/ingress.ts). */
  contactRequest: (messageHash: string) => `contact-request:${messageHash}`,
} as const;

export const DEFAULT_TASK_QUEUE = 'immoflow';

/**
 * A schedule's action targets one task queue, so deployments (or test runs) sharing a Temporal
 * namespace under other task queues get their own schedule instead of overwriting each other's.
 * The standard deployment keeps the plain ids.
 */
function perQueue(base: string, taskQueue: string): string {
  return taskQueue === DEFAULT_TASK_QUEUE ? base : `${base}:${taskQueue}`;
}

export const scheduleIds = {
  resync: (taskQueue: string) => perQueue('schedule:resync', taskQueue),
  tokenRefresh: (taskQueue: string) => perQueue('schedule:token-refresh', taskQueue),
} as const;
