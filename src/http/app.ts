import express, { Express, Router } from 'express';
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
import { errorHandler, notFoundHandler } from './errors';
import { healthRouter } from './health';
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
  api.use(express.json({ limit: config.HTTP_BODY_LIMIT, strict: true }));
  const inboxes = createInboxService(deps.db, config);
  api.use(identityRouter(deps.identity, async (orgId) => toInboxDto(await inboxes.current(orgId))));
  for (const factory of featureRouters) api.use(factory(deps));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
