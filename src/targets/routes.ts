import express, { Router } from 'express';
import type { AppDeps } from '../http/app';
import { authOf, requireScope, requireSecretKey } from '../http/auth';
import { sendData } from '../http/envelope';
import { TargetConnections, createTargetConnections } from './connections';
import { createPortalClient } from './portalClient';

/** Key deliveries are a few hundred bytes; anything much larger is not one. */
const KEY_DELIVERY_LIMIT = '16kb';

const perApp = new WeakMap<AppDeps, TargetConnections>();

/** One connection service (and one pooled portal dispatcher) per app, shared by both routers. */
function connectionsOf(deps: AppDeps): TargetConnections {
  let connections = perApp.get(deps);
  if (!connections) {
    connections = createTargetConnections(deps.db, deps.config, createPortalClient(deps.config));
    perApp.set(deps, connections);
  }
  return connections;
}

/**
 * GET /api/v1/targets, POST /api/v1/targets/{id}/connect and DELETE /api/v1/targets/{id}/connection:
 * which portals an organisation publishes to.
 */
export function targetsRouter(deps: AppDeps): Router {
  const connections = connectionsOf(deps);
  const router = Router();
  router.use(requireSecretKey);

  router.get('/', requireScope('targets:read'), async (req, res) => {
    const data = await connections.list(authOf(req).orgId);
    res.json({ data, pagination: { next_cursor: null, has_more: false, limit: data.length } });
  });
  router.get('/:id', requireScope('targets:read'), async (req, res) => {
    sendData(res, await connections.get(authOf(req).orgId, String(req.params.id)));
  });
  router.post('/:id/connect', requireScope('targets:write'), async (req, res) => {
    sendData(res, await connections.connect(authOf(req).orgId, String(req.params.id)), 201);
  });
  router.delete('/:id/connection', requireScope('targets:delete'), async (req, res) => {
    sendData(res, await connections.disconnect(authOf(req).orgId, String(req.params.id)));
  });

  const mounted = Router();
  mounted.use('/targets', router);
  return mounted;
}

/**
 * POST /partner-hooks/{targetId}: where a portal delivers an agency's key (reference 001 step 4),
 * outside /api/v1 and its API keys; the credential is the portal's signature over the raw body.
 */
export function partnerHooksRouter(deps: AppDeps): Router {
  const connections = connectionsOf(deps);
  const router = Router();
  router.post('/partner-hooks/:targetId', express.text({ type: () => true, limit: KEY_DELIVERY_LIMIT }), async (req, res) => {
    const rawBody = typeof req.body === 'string' ? req.body : '';
    await connections.acceptKeyDelivery(String(req.params.targetId), rawBody, (name) => req.get(name));
    res.status(200).json({ data: { received: true } });
  });
  return router;
}
