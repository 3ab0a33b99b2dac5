import type { ApiKeyKind, ApiKeyMode } from '../domain/apiKeys';
import type { FeatureFlags } from '../domain/featureFlags';
import type { Plan } from '../domain/plans';

/** Who is calling: resolved once per request from the X-API-Key header. */
export interface AuthContext {
  keyId: string;
  orgId: string;
  kind: ApiKeyKind;
  mode: ApiKeyMode;
  scopes: string[];
  createdBy: string | null;
  /** The creator's e-mail: the default owner of the listings this key creates. */
  createdByEmail: string | null;
  org: {
    id: string;
    name: string;
    plan: Plan;
    activeListingCapOverride: number | null;
    featureFlags: FeatureFlags;
    developerContactEmail: string | null;
  };
}
