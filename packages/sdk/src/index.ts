/**
 * @immoflow/sdk: a typed client for the Immoflow API. The request and response types come from
 * ./schema.d.ts, generated from the OpenAPI document the API serves (`npm run sdk:generate`).
 */
export { createImmoflowClient } from './client';
export type {
  IdempotencyOptions,
  IdempotentMethod,
  IdempotentResult,
  ImmoflowBaseClient,
  ImmoflowClient,
  ImmoflowClientOptions,
  ImmoflowPaths,
  RetryOptions,
} from './client';
export { ImmoflowApiError, ImmoflowNetworkError, isApiErrorBody, unwrap } from './errors';
export type { ApiErrorBody } from './errors';
export { paginate } from './pagination';
export type { CursorPaginatedPath, PageItem } from './pagination';
export { WebhookVerificationError, verifyWebhook } from './webhooks';
export type { ImmoflowWebhookEvent, VerifyWebhookOptions, WebhookEvent, WebhookHeaders, WebhookTestEvent, WebhookVerificationErrorCode } from './webhooks';
export type { components, paths, webhooks } from './schema';

import type { components } from './schema';
/** A listing as the API returns it. */
export type Listing = components['schemas']['ListingPublicDto'];
