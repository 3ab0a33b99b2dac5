import { ATTEMPT_WRITE_MARGIN_MS, WebhookDeliveryInput, circuitVerdict, isCircuitOpen, latestFirstAttemptStart, relayMayMakeFirstAttempt, webhookActivityQueue } from '../../../src/domain/webhookDelivery';

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

describe('circuitVerdict', () => {
  const now = 1_000_000;
  const closed = { threshold: 3, minFailingMs: 5000, failedAttemptsInARow: 2, failingSinceMs: now - 60_000, probeDeliveryId: null };
  const open = { ...closed, failedAttemptsInARow: 3 };

  it('lets every delivery attempt while fewer attempts than the threshold failed in a row', () => {
    expect(circuitVerdict(closed, 'd1', now)).toBe('attempt');
    expect(isCircuitOpen(closed, now)).toBe(false);
  });

  it('stays closed until the failures in a row have lasted the minimum time', () => {
    const burst = { ...open, failedAttemptsInARow: 500, failingSinceMs: now - 4999 };
    expect(isCircuitOpen(burst, now)).toBe(false);
    expect(isCircuitOpen(burst, now + 1)).toBe(true);
    expect(isCircuitOpen({ ...open, failingSinceMs: null }, now)).toBe(false);
  });

  it('makes the first delivery due on an open circuit without a probe its probe', () => {
    expect(isCircuitOpen(open, now)).toBe(true);
    expect(circuitVerdict(open, 'd1', now)).toBe('probe');
  });

  it('lets the probe attempt and parks every other delivery of an open circuit', () => {
    const probing = { ...open, failedAttemptsInARow: 40, probeDeliveryId: 'd1' };
    expect(circuitVerdict(probing, 'd1', now)).toBe('attempt');
    expect(circuitVerdict(probing, 'd2', now)).toBe('park');
  });

  it('never opens with a threshold of 0', () => {
    const off = { ...open, threshold: 0, failedAttemptsInARow: 10_000, probeDeliveryId: 'd1' };
    expect(isCircuitOpen(off, now)).toBe(false);
    expect(circuitVerdict(off, 'd2', now)).toBe('attempt');
  });
});
