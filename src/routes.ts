import { attachmentsRouter } from './attachments/routes';
import { eventsRouter } from './events/routes';
import type { FeatureRouterFactory } from './http/app';
import { imagesRouter } from './images/routes';
import { storageEventsRouter } from './images/storageEvents';
import { listingsRouter } from './listings/routes';
import { connectRouter } from './partners/connectRoutes';
import { partnerConnectionsRouter } from './partners/connectionRoutes';
import { crmRouter } from './partners/crmRoutes';
import { requestsRouter } from './requests/routes';
import { partnerHooksRouter, targetsRouter } from './targets/routes';
import { webhooksRouter } from './webhooks/routes';

/** Feature routers mounted under /api/v1, in order. Each feature folder contributes one. */
export const featureRouters: FeatureRouterFactory[] = [listingsRouter, imagesRouter, attachmentsRouter, eventsRouter, webhooksRouter, partnerConnectionsRouter, targetsRouter, requestsRouter];

/**
 * Routers outside /api/v1 and API-key auth, each with its own credential: storage notifications
 * (a token), the CRM partner endpoints (client credentials, then an x-crm-token), the connect
 * page (a signed link, then a session) and the partner hooks where portals deliver agency keys
 * (their signature).
 */
export const internalRouters: FeatureRouterFactory[] = [storageEventsRouter, crmRouter, connectRouter, partnerHooksRouter];
