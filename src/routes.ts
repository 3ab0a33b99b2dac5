import { eventsRouter } from './events/routes';
import type { FeatureRouterFactory } from './http/app';
import { imagesRouter } from './images/routes';
import { storageEventsRouter } from './images/storageEvents';
import { listingsRouter } from './listings/routes';
import { connectRouter } from './partners/connectRoutes';
import { partnerConnectionsRouter } from './partners/connectionRoutes';
import { crmRouter } from './partners/crmRoutes';
import { webhooksRouter } from './webhooks/routes';

/** Feature routers mounted under /api/v1, in order. Each feature folder contributes one. */
export const featureRouters: FeatureRouterFactory[] = [listingsRouter, imagesRouter, eventsRouter, webhooksRouter, partnerConnectionsRouter];

/** Routers for our own infrastructure, outside /api/v1 and API-key auth. */
export const internalRouters: FeatureRouterFactory[] = [storageEventsRouter, crmRouter, connectRouter];
