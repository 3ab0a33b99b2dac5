import { DEFAULT_ACTIVE_LISTING_CAP, PLANS, effectiveActiveListingCap, exceedsActiveListingCap } from '../../../src/domain/plans';

describe('PLANS and default caps', () => {
  it('lists the three plans', () => {
    expect([...PLANS]).toEqual(['free', 'pro', 'enterprise']);
  });

  it('caps free at 25, pro at 2500 and leaves enterprise unlimited', () => {
    expect(DEFAULT_ACTIVE_LISTING_CAP).toEqual({ free: 25, pro: 2500, enterprise: null });
  });
});

describe('effectiveActiveListingCap', () => {
  it.each([
    ['free', 25],
    ['pro', 2500],
    ['enterprise', null],
  ] as const)('without an override, %s has cap %p', (plan, cap) => {
    expect(effectiveActiveListingCap(plan, null)).toBe(cap);
    expect(effectiveActiveListingCap(plan, undefined)).toBe(cap);
  });

  it('lets an override win over the plan default, up or down', () => {
    expect(effectiveActiveListingCap('free', 100)).toBe(100);
    expect(effectiveActiveListingCap('free', 5)).toBe(5);
    expect(effectiveActiveListingCap('pro', 10_000)).toBe(10_000);
    expect(effectiveActiveListingCap('pro', 1)).toBe(1);
  });

  it('lets an override cap an otherwise unlimited enterprise plan', () => {
    expect(effectiveActiveListingCap('enterprise', 50_000)).toBe(50_000);
  });

  it('honours an override of 0 (no active listings at all) rather than falling back to the default', () => {
    expect(effectiveActiveListingCap('free', 0)).toBe(0);
    expect(effectiveActiveListingCap('enterprise', 0)).toBe(0);
  });
});

describe('exceedsActiveListingCap', () => {
  it('allows activating up to and including the cap', () => {
    expect(exceedsActiveListingCap(25, 0)).toBe(false);
    expect(exceedsActiveListingCap(25, 23)).toBe(false);
    expect(exceedsActiveListingCap(25, 24)).toBe(false); // the 25th listing
  });

  it('refuses the listing that would go past the cap', () => {
    expect(exceedsActiveListingCap(25, 25)).toBe(true); // the 26th listing
    expect(exceedsActiveListingCap(25, 26)).toBe(true);
    expect(exceedsActiveListingCap(2500, 2499)).toBe(false);
    expect(exceedsActiveListingCap(2500, 2500)).toBe(true);
  });

  it('checks a batch of several listings against the remaining room', () => {
    expect(exceedsActiveListingCap(25, 20, 5)).toBe(false);
    expect(exceedsActiveListingCap(25, 20, 6)).toBe(true);
    expect(exceedsActiveListingCap(25, 21, 5)).toBe(true);
  });

  it('with adding = 0 only reports an organisation that is already over its cap', () => {
    expect(exceedsActiveListingCap(25, 25, 0)).toBe(false);
    expect(exceedsActiveListingCap(25, 26, 0)).toBe(true);
  });

  it('a cap of 0 refuses the first listing', () => {
    expect(exceedsActiveListingCap(0, 0)).toBe(true);
  });

  it('never refuses when the cap is null (unlimited)', () => {
    expect(exceedsActiveListingCap(null, 0)).toBe(false);
    expect(exceedsActiveListingCap(null, 1_000_000)).toBe(false);
    expect(exceedsActiveListingCap(null, 1_000_000, 1_000_000)).toBe(false);
  });

  it('agrees with the plan defaults at their boundaries', () => {
    const free = effectiveActiveListingCap('free', null);
    expect(exceedsActiveListingCap(free, 24)).toBe(false);
    expect(exceedsActiveListingCap(free, 25)).toBe(true);
    const enterprise = effectiveActiveListingCap('enterprise', undefined);
    expect(exceedsActiveListingCap(enterprise, 10_000_000)).toBe(false);
  });
});
