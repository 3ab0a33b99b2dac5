import type { FeatureRouterFactory } from './http/app';

/** Feature routers mounted under /api/v1, in order. Each feature folder contributes one. */
export const featureRouters: FeatureRouterFactory[] = [];
