export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Default active-listing caps; `null` means unlimited. An organisation may override its cap. */
export const DEFAULT_ACTIVE_LISTING_CAP: Record<Plan, number | null> = {
  free: 25,
  pro: 2500,
  enterprise: null,
};

export function effectiveActiveListingCap(plan: Plan, override: number | null | undefined): number | null {
  return override ?? DEFAULT_ACTIVE_LISTING_CAP[plan];
}

export function exceedsActiveListingCap(cap: number | null, activeCount: number, adding = 1): boolean {
  return cap !== null && activeCount + adding > cap;
}
