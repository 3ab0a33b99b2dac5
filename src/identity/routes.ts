import { Router } from 'express';
import { effectiveActiveListingCap } from '../domain/plans';
import { effectiveScopes } from '../domain/scopes';
import { authOf, requireScope, requireSecretKey } from '../http/auth';
import { sendData } from '../http/envelope';
import { toApiKeyDto, toOrganizationDto } from './dto';
import type { IdentityService } from './service';

/** The organisation's inbox for contact requests, as GET /me shows it (src/requests/inboxes.ts). */
export type InboxOf = (orgId: string) => Promise<{ id: string; address: string; created_at: string }>;

/** Lets a CRM developer check which organisation, mode and scopes a key carries. */
export function identityRouter(identity: IdentityService, inboxOf?: InboxOf): Router {
  const router = Router();

  router.get('/me', async (req, res) => {
    const auth = authOf(req);
    // The inbox address admits mail into the organisation: a publishable key does not see it.
    const inbox = inboxOf && auth.kind === 'secret' ? await inboxOf(auth.orgId) : null;
    sendData(res, {
      organization: toOrganizationDto({
        ...auth.org,
        activeListingCap: effectiveActiveListingCap(auth.org.plan, auth.org.activeListingCapOverride),
      }),
      // `scopes` is what was granted (minimal); `effective_scopes` what the key may do.
      api_key: { id: auth.keyId, kind: auth.kind, mode: auth.mode, scopes: auth.scopes, effective_scopes: effectiveScopes(auth.scopes) },
      inbox,
    });
  });

  router.get('/api-keys', requireSecretKey, requireScope('api_keys:read'), async (req, res) => {
    const keys = await identity.listApiKeys(authOf(req).orgId);
    res.json({ data: keys.map(toApiKeyDto) });
  });

  return router;
}
