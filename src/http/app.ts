import express, { Express, Request, RequestHandler, Router } from 'express';
import type { Client as StorageClient } from 'minio';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { identityRouter } from '../identity/routes';
import type { IdentityService } from '../identity/service';
import { httpMetrics, metricsHandler } from '../observability/metrics';
import { openApiRouter } from '../openapi/routes';
import { createInboxService, toInboxDto } from '../requests/inboxes';
import type { TemporalClientProvider } from '../temporal/client';
import { authenticate } from './auth';
import { ApiError, errorHandler, notFoundHandler } from './errors';
import { healthRouter } from './health';
import { refuseNulCharacters } from './nulCharacters';
import { rateLimitPerKey } from './rateLimit';
import { requestContext } from './requestContext';

export interface AppDeps {
  config: Config;
  db: Db;
  /** Bookkeeping writes that need not wait for fsync (see createRelaxedDb). */
  relaxedDb: Db;
  logger: Logger;
  temporal: TemporalClientProvider;
  storage: StorageClient;
  identity: IdentityService;
  metrics: Registry;
}

/**
 * Feature routers mount here. Each receives the shared deps and returns a router for /api/v1;
 * authentication and the rate limit have already run.
 */
export type FeatureRouterFactory = (deps: AppDeps) => Router;

/**
 * Routes under /api/v1 that take another body type and parse it themselves (paths relative to
 * /api/v1, method included). Every other route reads JSON only.
 */
const OWN_BODY_TYPES = new Set(['POST /inbound/mail']);

/**
 * A body that is not declared JSON is refused with 415 instead of being silently ignored by
 * express.json (which would then read as an empty body: a confusing 400 about every required field,
 * or worse, a PATCH that changes nothing). Requests without a body are not concerned.
 */
function requireJsonBody(): RequestHandler {
  // An empty body (Content-Length: 0, as fetch sends on a bare POST) is no body.
  const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  return (req, _res, next) => {
    if (!hasBody(req) || OWN_BODY_TYPES.has(`${req.method} ${req.path}`) || req.is('application/json')) return next();
    const got = req.get('content-type');
    throw new ApiError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      got
        ? `This endpoint reads JSON only; send the body with Content-Type: application/json (got ${got}).`
        : 'The request has a body but no Content-Type; send it as JSON with Content-Type: application/json.',
      { content_type: got ?? null, expected: 'application/json' },
    );
  };
}

/**
 * Internal routers are mounted outside /api/v1, before API-key authentication: endpoints for our
 * own infrastructure (e.g. storage notifications), each with its own credential.
 */
export function createApp(deps: AppDeps, featureRouters: FeatureRouterFactory[] = [], internalRouters: FeatureRouterFactory[] = []): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  // API responses are JSON answers to one request, not cacheable documents: no body hashing.
  app.set('etag', false);
  app.set('trust proxy', true);
  // Two-level query strings only; deeper nesting is an injection vector and no route needs it.
  app.set('query parser', 'simple');

  app.use(requestContext(deps.logger));
  if (config.METRICS_ENABLED) {
    app.use(httpMetrics(deps.metrics));
    app.get('/metrics', metricsHandler(deps.metrics));
  }
  app.use(
    healthRouter({
      db: deps.db,
      temporal: deps.temporal,
      storage: deps.storage,
      storageBucket: config.S3_BUCKET_IMAGES,
      timeoutMs: config.DEPENDENCY_TIMEOUT,
    }),
  );

  app.use(openApiRouter(config));
  for (const factory of internalRouters) app.use(factory(deps));

  const api = Router();
  api.use(authenticate(deps.identity));
  api.use(rateLimitPerKey(deps.relaxedDb, config.RATE_LIMIT_PER_HOUR));
  // Bodies are parsed only for authenticated, in-budget callers.
  api.use(requireJsonBody());
  api.use(express.json({ limit: config.HTTP_BODY_LIMIT, strict: true }));
  api.use(refuseNulCharacters());
  const inboxes = createInboxService(deps.db, config);
  api.use(identityRouter(deps.identity, async (orgId) => toInboxDto(await inboxes.current(orgId))));
  for (const factory of featureRouters) api.use(factory(deps));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
