import type { FeatureFlags } from '../domain/featureFlags';
import type { Plan } from '../domain/plans';
import type { ApiKeyRecord } from './service';

export function toOrganizationDto(org: {
  id: string;
  name: string;
  plan: Plan;
  activeListingCap: number | null;
  featureFlags: FeatureFlags;
}) {
  return {
    id: org.id,
    name: org.name,
    plan: org.plan,
    active_listing_cap: org.activeListingCap,
    feature_flags: org.featureFlags,
  };
}

/** Never includes the key or its hash: a key is shown once, at creation. */
export function toApiKeyDto(record: ApiKeyRecord) {
  return {
    id: record.id,
    kind: record.kind,
    mode: record.mode,
    name: record.name,
    hint: record.key_hint,
    scopes: record.scopes,
    created_by: record.created_by,
    created_at: record.created_at.toISOString(),
    last_used_at: record.last_used_at?.toISOString() ?? null,
    revoked_at: record.revoked_at?.toISOString() ?? null,
  };
}
