import { ATTEMPT_WRITE_MARGIN_MS, WebhookDeliveryInput, latestFirstAttemptStart, relayMayMakeFirstAttempt, webhookActivityQueue } from '../../../src/domain/webhookDelivery';

const delivery: WebhookDeliveryInput = { orgId: 'o', webhookId: 'w', deliveryId: 'd', retrySchedule: '0s,5s,5m' };

describe('relayMayMakeFirstAttempt', () => {
  it('lets the relay make an immediate first attempt that fits in its lease', () => {
    expect(relayMayMakeFirstAttempt({ delivery, timeoutMs: 10_000, leaseMs: 30_000 })).toBe(true);
    expect(relayMayMakeFirstAttempt({ delivery, timeoutMs: 30_000 - ATTEMPT_WRITE_MARGIN_MS, leaseMs: 30_000 })).toBe(true);
  });

  it('leaves an attempt that could outlive the lease to the workflow', () => {
    expect(relayMayMakeFirstAttempt({ delivery, timeoutMs: 30_000 - ATTEMPT_WRITE_MARGIN_MS + 1, leaseMs: 30_000 })).toBe(false);
  });

  it('leaves a delayed first attempt to the workflow, whose timer is durable', () => {
    expect(relayMayMakeFirstAttempt({ delivery: { ...delivery, retrySchedule: '2s,5s' }, timeoutMs: 1000, leaseMs: 30_000 })).toBe(false);
  });

  it('never makes a first attempt twice once its result is recorded', () => {
    const firstAttempt = { outcome: 'retry' as const, statusCode: 503, retryAfterMs: null };
    expect(relayMayMakeFirstAttempt({ delivery: { ...delivery, firstAttempt }, timeoutMs: 1000, leaseMs: 30_000 })).toBe(false);
  });
});

describe('latestFirstAttemptStart', () => {
  it('leaves room in the claim for a whole attempt and its write', () => {
    expect(latestFirstAttemptStart({ claimedAtMs: 1_000_000, leaseMs: 30_000, timeoutMs: 10_000 })).toBe(1_000_000 + 30_000 - 10_000 - ATTEMPT_WRITE_MARGIN_MS);
  });
});

describe('webhookActivityQueue', () => {
  it('puts the attempts of a run on the main queue on <main>-webhooks', () => {
    expect(webhookActivityQueue('immoflow')).toBe('immoflow-webhooks');
  });

  it('keeps the attempts of a run begun on <main>-webhooks on that queue', () => {
    expect(webhookActivityQueue('immoflow-webhooks')).toBe('immoflow-webhooks');
  });
});
