import { LISTING_STATUSES, allowedTransitions, canTransition, isActivation } from '../../../src/domain/listingLifecycle';

describe('listing lifecycle', () => {
  it.each([
    ['draft', 'active', true],
    ['draft', 'archived', true],
    ['draft', 'rented', false],
    ['active', 'draft', true],
    ['active', 'rented', true],
    ['active', 'archived', true],
    ['rented', 'active', true],
    ['rented', 'archived', true],
    ['rented', 'draft', false],
    ['archived', 'draft', true],
    ['archived', 'active', false],
    ['archived', 'rented', false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('treats staying in a state as allowed (a plain update)', () => {
    for (const status of LISTING_STATUSES) expect(canTransition(status, status)).toBe(true);
  });

  it('lists the allowed targets for error details', () => {
    expect(allowedTransitions('draft')).toEqual(['active', 'archived']);
    expect(allowedTransitions('archived')).toEqual(['draft']);
  });

  it('publishes only on a move into active', () => {
    expect(isActivation(null, 'active')).toBe(true);
    expect(isActivation('draft', 'active')).toBe(true);
    expect(isActivation('rented', 'active')).toBe(true);
    expect(isActivation('active', 'active')).toBe(false);
    expect(isActivation('draft', 'archived')).toBe(false);
  });
});
