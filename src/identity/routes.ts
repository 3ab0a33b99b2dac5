import { Router } from 'express';
import { effectiveActiveListingCap } from '../domain/plans';
import { authOf, requireScope, requireSecretKey } from '../http/auth';
import { sendData } from '../http/envelope';
import { toApiKeyDto, toOrganizationDto } from './dto';
import type { IdentityService } from './service';

/** Lets a CRM developer check which organisation, mode and scopes a key carries. */
export function identityRouter(identity: IdentityService): Router {
  const router = Router();

  router.get('/me', (req, res) => {
    const auth = authOf(req);
    sendData(res, {
      organization: toOrganizationDto({
        ...auth.org,
        activeListingCap: effectiveActiveListingCap(auth.org.plan, auth.org.activeListingCapOverride),
      }),
      api_key: { id: auth.keyId, kind: auth.kind, mode: auth.mode, scopes: auth.scopes },
    });
  });

  router.get('/api-keys', requireSecretKey, requireScope('api_keys:read'), async (req, res) => {
    const keys = await identity.listApiKeys(authOf(req).orgId);
    res.json({ data: keys.map(toApiKeyDto) });
  });

  return router;
}
