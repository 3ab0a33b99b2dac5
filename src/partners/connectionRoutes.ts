import { Router } from 'express';
import type { AppDeps } from '../http/app';
import { authOf, requireScope, requireSecretKey } from '../http/auth';
import { sendData } from '../http/envelope';
import { uuidParamOr404 } from '../http/params';
import { createConnectionService, toConnectionDto } from './connections';

/** GET and DELETE /api/v1/partners/connections: which CRM partners hold a key of this organisation. */
export function partnerConnectionsRouter(deps: AppDeps): Router {
  const connections = createConnectionService(deps.db, deps.config);
  const router = Router();
  router.use(requireSecretKey);

  router.get('/', requireScope('partners:read'), async (req, res) => {
    const data = (await connections.list(authOf(req).orgId)).map(toConnectionDto);
    res.json({ data, pagination: { next_cursor: null, has_more: false, limit: data.length } });
  });
  router.delete('/:id', requireScope('partners:delete'), async (req, res) => {
    const id = uuidParamOr404(req.params.id, 'No partner connection with this id in your organization.');
    sendData(res, toConnectionDto(await connections.revoke(authOf(req).orgId, id)));
  });

  const mounted = Router();
  mounted.use('/partners/connections', router);
  return mounted;
}
