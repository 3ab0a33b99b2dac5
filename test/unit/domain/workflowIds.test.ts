import { scheduleIds, workflowIds } from '../../../src/domain/workflowIds';

const LISTING = '0b7f1c1e-6f9a-4c1f-9d8e-3c2a1b0f9e87';

describe('workflowIds', () => {
  it('listingPublish is listing-publish:<listingId>:r<revision>', () => {
    expect(workflowIds.listingPublish(LISTING, 3)).toBe(`listing-publish:${LISTING}:r3`);
    expect(workflowIds.listingPublish('abc', 1)).toBe('listing-publish:abc:r1');
  });

  it('propertyProcessing is property-processing:<listingId>:r<revision>', () => {
    expect(workflowIds.propertyProcessing(LISTING, 12)).toBe(`property-processing:${LISTING}:r12`);
  });

  it('imageIngest is image-ingest:<imageId>', () => {
    expect(workflowIds.imageIngest('img-1')).toBe('image-ingest:img-1');
  });

  it('webhookDelivery is webhook-delivery:<deliveryId>', () => {
    expect(workflowIds.webhookDelivery('d-7')).toBe('webhook-delivery:d-7');
  });

  it('partnerOnboarding is partner-onboarding:<partnerId>:<agencyId>', () => {
    expect(workflowIds.partnerOnboarding('p1', 'a2')).toBe('partner-onboarding:p1:a2');
  });

  it('publication is publication:<listingId>:<targetId>, one per listing and target', () => {
    expect(workflowIds.publication(LISTING, 't-1')).toBe(`publication:${LISTING}:t-1`);
  });

  it('publicationBackfill is one per target, organisation and the target.* event it answers', () => {
    expect(workflowIds.publicationBackfill('t-1', 'o-2', 'e-3')).toBe('publication-backfill:t-1:o-2:e-3');
    expect(workflowIds.publication(LISTING, 't-1')).not.toBe(workflowIds.publication(LISTING, 't-2'));
  });

  it('is deterministic: the same unit of work maps to the same id', () => {
    expect(workflowIds.listingPublish(LISTING, 5)).toBe(workflowIds.listingPublish(LISTING, 5));
    expect(workflowIds.webhookDelivery('d-7')).toBe(workflowIds.webhookDelivery('d-7'));
  });

  it('gives a new revision of a listing a new publish id', () => {
    expect(workflowIds.listingPublish(LISTING, 1)).not.toBe(workflowIds.listingPublish(LISTING, 2));
    expect(workflowIds.listingPublish(LISTING, 1)).not.toBe(workflowIds.listingPublish(LISTING, 11));
  });

  it('keeps the id spaces of different workflows apart for the same entity id', () => {
    const ids = [
      workflowIds.listingPublish('x', 1),
      workflowIds.propertyProcessing('x', 1),
      workflowIds.imageIngest('x'),
      workflowIds.webhookDelivery('x'),
      workflowIds.partnerOnboarding('x', 'x'),
      workflowIds.publication('x', 'x'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('does not mix up the argument order of partnerOnboarding', () => {
    expect(workflowIds.partnerOnboarding('p1', 'a2')).not.toBe(workflowIds.partnerOnboarding('a2', 'p1'));
  });
});

describe('scheduleIds', () => {
  it('names the resync and token-refresh schedules', () => {
    expect(scheduleIds.resync('immoflow')).toBe('schedule:resync');
    expect(scheduleIds.tokenRefresh('immoflow')).toBe('schedule:token-refresh');
    // Another task queue in the same namespace gets its own schedule.
    expect(scheduleIds.resync('staging')).toBe('schedule:resync:staging');
  });
});
