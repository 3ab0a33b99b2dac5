import { geocodingTaskQueue, resolveReview } from '../../../src/domain/listingPipeline';
import type { ModerationReason } from '../../../src/domain/moderation';

const pending: { reasons: ModerationReason[] } = {
  reasons: [{ code: 'CONTACT_DATA_IN_TEXT', field: 'description', message: 'phone number in description', severity: 'review' }],
};

describe('resolveReview', () => {
  it('turns an approval into approved, keeping the original reasons and the operator’s', () => {
    const result = resolveReview(pending, { approve: true, reason: 'office number' }, 'rejected');
    expect(result.outcome).toBe('approved');
    expect(result.reasons.map((reason) => reason.code)).toEqual(['CONTACT_DATA_IN_TEXT', 'OPERATOR_APPROVED']);
    expect(result.reasons[1]).toMatchObject({ message: 'office number', severity: 'review' });
  });

  it('turns a rejection into rejected with a reject-severity reason', () => {
    const result = resolveReview(pending, { approve: false, reason: 'private number' }, 'approved');
    expect(result.outcome).toBe('rejected');
    expect(result.reasons[1]).toMatchObject({ code: 'OPERATOR_REJECTED', severity: 'reject' });
  });

  it.each(['approved', 'rejected'] as const)('gives the configured outcome (%s) when nobody decided', (outcome) => {
    const result = resolveReview(pending, undefined, outcome);
    expect(result.outcome).toBe(outcome);
    expect(result.reasons.at(-1)).toMatchObject({ code: 'REVIEW_TIMEOUT', severity: outcome === 'rejected' ? 'reject' : 'review' });
    expect(result.reasons.at(-1)?.message).toContain(outcome);
  });

  it('does not mutate the pending reasons', () => {
    resolveReview(pending, { approve: true, reason: 'ok' }, 'rejected');
    expect(pending.reasons).toHaveLength(1);
  });
});

it('derives the geocoding task queue from the main one', () => {
  expect(geocodingTaskQueue('immoflow')).toBe('immoflow-geocoding');
});
