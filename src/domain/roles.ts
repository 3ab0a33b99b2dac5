export const MEMBERSHIP_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];

/** Roles that may own listings (reference 000: owner_email must be owner, admin or member). */
export const LISTING_OWNER_ROLES: readonly MembershipRole[] = ['owner', 'admin', 'member'];
