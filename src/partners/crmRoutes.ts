import express, { Router } from 'express';
import type { AppDeps } from '../http/app';
import { ApiError } from '../http/errors';
import { refuseNulCharacters } from '../http/nulCharacters';
import { countInWindow, rateLimited, setRateLimitHeaders } from '../http/rateLimit';
import { partnerMetrics } from './metrics';
import { integrateSchema } from './schema';
import { PartnerRow, createPartnerService } from './service';

const WRONG_CREDENTIALS = 'The client id and client secret do not match an active partner.';

/**
 * Reference 001 steps 1 and 2, outside /api/v1 and its API keys: partners authenticate with their
 * client credentials, then with the x-crm-token those buy.
 */
export function crmRouter(deps: AppDeps): Router {
  const { db, config } = deps;
  const partners = createPartnerService(db, config);
  const metrics = partnerMetrics(deps.metrics);
  const router = Router();

  router.post('/crm/oauth', async (req, res) => {
    const failuresBucket = `auth-failures:ip:${req.ip ?? 'unknown'}`;
    const failures = await countInWindow(db, failuresBucket, config.AUTH_FAILURES_PER_IP_PER_HOUR, 0);
    if (!failures.allowed) throw rateLimited(failures, 'Too many failed authentication attempts from this address; retry later.');
    const clientId = req.get('x-crm-client-id')?.trim();
    const clientSecret = req.get('x-crm-client-secret')?.trim();
    if (!clientId || !clientSecret) {
      throw new ApiError(401, 'UNAUTHENTICATED', 'Send your credentials in the x-crm-client-id and x-crm-client-secret headers.');
    }
    const partner = await partners.verifyCredentials(clientId, clientSecret);
    if (!partner) {
      await countInWindow(db, failuresBucket, config.AUTH_FAILURES_PER_IP_PER_HOUR, 1);
      throw new ApiError(401, 'UNAUTHENTICATED', WRONG_CREDENTIALS);
    }
    const budget = await countInWindow(db, `crm-oauth:${partner.id}`, config.CRM_OAUTH_RATE_LIMIT_PER_HOUR, 1);
    setRateLimitHeaders(res, budget);
    if (!budget.allowed) {
      throw rateLimited(
        budget,
        `At most ${budget.limit} token requests per hour. Cache the x-crm-token until it expires (or refresh it every 5.5 hours) instead of requesting one per link.`,
      );
    }
    const { token, expiresAt } = await partners.issueToken(partner);
    metrics.tokensIssued.inc();
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('x-crm-token', token);
    res.status(200).json({
      'x-crm-token': token,
      token_type: 'Bearer',
      expires_in: Math.round((expiresAt.getTime() - Date.now()) / 1000),
      expires_at: expiresAt.toISOString(),
    });
  });

  router.post(
    '/crm/integrate',
    async (req, res, next) => {
      const presented = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!presented) throw new ApiError(401, 'UNAUTHENTICATED', 'Send Authorization: Bearer <x-crm-token>, the token POST /crm/oauth returned.');
      const partner = await partners.authenticateToken(presented);
      if (!partner) throw new ApiError(401, 'UNAUTHENTICATED', 'The x-crm-token is unknown, expired or revoked; request a new one from POST /crm/oauth.');
      res.locals.partner = partner;
      next();
    },
    // Bodies are parsed only for authenticated partners.
    express.json({ limit: '16kb', strict: true }),
    refuseNulCharacters(),
    async (req, res) => {
      const { agencyId } = integrateSchema.parse(req.body ?? {});
      const link = await partners.createConnectLink(res.locals.partner as PartnerRow, agencyId);
      metrics.linksCreated.inc();
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json({ url: link.url, expires_at: link.expiresAt.toISOString() });
    },
  );

  return router;
}
