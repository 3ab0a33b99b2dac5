/** Every event name Immoflow emits; webhook subscriptions are checked against this list. */
export const EVENT_NAMES = [
  'listing.created',
  'listing.updated',
  'listing.published',
  'listing.deleted',
  'listing.moderated',
  'listing.image.uploaded',
  'listing.image.deleted',
  'property.processing_succeeded',
  'property.processing_failed',
  'publication.succeeded',
  'publication.failed',
  'target.connected',
  'target.disconnected',
  'request.created',
  'request.parsing_failed',
  'application.status_changed',
  'appointment.booked',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

