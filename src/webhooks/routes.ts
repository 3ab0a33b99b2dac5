import { Router } from 'express';
import type { AppDeps } from '../http/app';
import { authOf, requireFeatureFlag, requireScope, requireSecretKey } from '../http/auth';
import { sendData } from '../http/envelope';
import { uuidParamOr404 } from '../http/params';
import { createWebhookService } from './service';
import { createWebhookSchema, listDeliveriesQuerySchema, patchWebhookSchema } from './schema';

const idParam = (value: string | string[] | undefined, what: 'webhook' | 'delivery') =>
  uuidParamOr404(value, `No ${what} with this id in your organization.`);

/** Webhook subscriptions (reference 002), dark-shipped behind WEBHOOKS_PUBLIC_API_ENABLED. */
export function webhooksRouter(deps: AppDeps): Router {
  const service = createWebhookService(deps.db, deps.config);
  const webhooks = Router();
  webhooks.use(requireFeatureFlag('WEBHOOKS_PUBLIC_API_ENABLED'), requireSecretKey);

  webhooks.post('/', requireScope('webhooks:write'), async (req, res) => {
    sendData(res, await service.create(authOf(req), createWebhookSchema.parse(req.body)), 201);
  });
  webhooks.get('/', requireScope('webhooks:read'), async (req, res) => {
    const data = await service.list(authOf(req));
    res.json({ data, pagination: { next_cursor: null, has_more: false, limit: data.length } });
  });
  webhooks.get('/:id', requireScope('webhooks:read'), async (req, res) => {
    sendData(res, await service.get(authOf(req), idParam(req.params.id, 'webhook')));
  });
  webhooks.patch('/:id', requireScope('webhooks:write'), async (req, res) => {
    sendData(res, await service.patch(authOf(req), idParam(req.params.id, 'webhook'), patchWebhookSchema.parse(req.body)));
  });
  webhooks.delete('/:id', requireScope('webhooks:delete'), async (req, res) => {
    sendData(res, await service.remove(authOf(req), idParam(req.params.id, 'webhook')));
  });
  webhooks.post('/:id/rotate-secret', requireScope('webhooks:write'), async (req, res) => {
    sendData(res, await service.rotateSecret(authOf(req), idParam(req.params.id, 'webhook')));
  });
  webhooks.get('/:id/deliveries', requireScope('webhooks:read'), async (req, res) => {
    res.json(await service.listDeliveries(authOf(req), idParam(req.params.id, 'webhook'), listDeliveriesQuerySchema.parse(req.query)));
  });
  webhooks.get('/:id/deliveries/:deliveryId', requireScope('webhooks:read'), async (req, res) => {
    sendData(res, await service.getDelivery(authOf(req), idParam(req.params.id, 'webhook'), idParam(req.params.deliveryId, 'delivery')));
  });
  webhooks.post('/:id/deliveries/:deliveryId/redeliver', requireScope('webhooks:write'), async (req, res) => {
    res.status(202).json(await service.redeliver(authOf(req), idParam(req.params.id, 'webhook'), idParam(req.params.deliveryId, 'delivery')));
  });
  webhooks.post('/:id/test', requireScope('webhooks:write'), async (req, res) => {
    res.status(202).json(await service.sendTest(authOf(req), idParam(req.params.id, 'webhook')));
  });

  const router = Router();
  router.use('/webhooks', webhooks);
  return router;
}
