// The worker's workflow bundle entry point: every workflow type Immoflow runs is exported here.
export { outboxResync } from './outboxResync';
export { listingPublish } from './listingPublish';
export { webhookDelivery } from './webhookDelivery';
export { imageIngest, imageRemoval } from './imageIngest';
export { partnerOnboarding } from './partnerOnboarding';
export { publication } from './publication';
export { publicationBackfill } from './publicationBackfill';
export { tokenRefresh } from './tokenRefresh';
export { contactRequest } from './contactRequest';
export { propertyProcessing } from './propertyProcessing';
