import type { GeocodingProvider } from '../src/geocoding/types';
import { createAttachmentActivities } from './attachments';
import type { ActivityDeps } from './deps';
import { createGeocodingActivities } from './geocoding';
import { createHousekeepingActivities } from './housekeeping';
import { createImageActivities } from './images';
import { createListingActivities } from './listings';
import { createPartnerActivities } from './partners';
import { createPublicationActivities } from './publications';
import { createRequestActivities } from './requests';
import { createWebhookActivities } from './webhooks';

export type { ActivityDeps } from './deps';

/** The one activity factory: every activity the worker registers is built here from its deps. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createHousekeepingActivities(deps),
    ...createListingActivities(deps),
    ...createWebhookActivities(deps),
    ...createImageActivities(deps),
    ...createPartnerActivities(deps),
    ...createPublicationActivities(deps),
    ...createRequestActivities(deps),
    ...createAttachmentActivities(deps),
  };
}

/** Activities of the webhooks task queue: a delivery's attempts and their records. */
export function createWebhookQueueActivities(deps: ActivityDeps) {
  return createWebhookActivities(deps);
}

/** Activities of the geocoding task queue, which is rate-limited for the provider's sake. */
export function createGeocodingQueueActivities(deps: ActivityDeps & { geocoder?: GeocodingProvider }) {
  return createGeocodingActivities(deps);
}

export type Activities = ReturnType<typeof createActivities>;
