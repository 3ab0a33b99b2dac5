import { eventsRouter } from './events/routes';
import type { FeatureRouterFactory } from './http/app';
import { listingsRouter } from './listings/routes';
import { webhooksRouter } from './webhooks/routes';

/** Feature routers mounted under /api/v1, in order. Each feature folder contributes one. */
export const featureRouters: FeatureRouterFactory[] = [listingsRouter, eventsRouter, webhooksRouter];
