import { AGENCY_KEY_SCOPES, agencyKeyMode, describeDeliveryFailure, extendDeadline, isKeyDeliveryAccepted } from '../../../src/domain/partners';
import { scopeGrants } from '../../../src/domain/scopes';

describe('agency keys', () => {
  it('may push listings (read, write, delete) and read events, and nothing else', () => {
    for (const scope of ['listings:read', 'listings:write', 'listings:delete', 'events:read'] as const) expect(scopeGrants(AGENCY_KEY_SCOPES, scope)).toBe(true);
    for (const scope of ['webhooks:read', 'events:write', 'api_keys:read', 'partners:read'] as const) expect(scopeGrants(AGENCY_KEY_SCOPES, scope)).toBe(false);
  });

  it('are live keys in production only', () => {
    expect(agencyKeyMode('production')).toBe('live');
    expect(agencyKeyMode('development')).toBe('test');
    expect(agencyKeyMode('test')).toBe('test');
  });
});

describe('isKeyDeliveryAccepted', () => {
  it('counts only 200 OK, as reference 001 says', () => {
    expect(isKeyDeliveryAccepted(200)).toBe(true);
    for (const status of [201, 202, 204, 301, 400, 410, 500, null]) expect(isKeyDeliveryAccepted(status)).toBe(false);
  });
});

describe('extendDeadline', () => {
  it('lets a newer link extend the wait, never shorten it', () => {
    expect(extendDeadline(0, '2026-12-03T10:00:00.000Z')).toBe(Date.parse('2026-12-03T10:00:00.000Z'));
    expect(extendDeadline(Date.parse('2026-12-04T00:00:00Z'), '2026-12-03T10:00:00.000Z')).toBe(Date.parse('2026-12-04T00:00:00Z'));
    expect(extendDeadline(5, 'not a date')).toBe(5);
  });
});

describe('describeDeliveryFailure', () => {
  it('names the status code, or the transport error', () => {
    expect(describeDeliveryFailure(503, null)).toBe('the webhook answered HTTP 503 (only 200 OK counts as received)');
    expect(describeDeliveryFailure(null, 'TimeoutError: aborted')).toBe('the request failed: TimeoutError: aborted');
    expect(describeDeliveryFailure(null, null)).toBe('the request failed');
  });
});
