import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { listingPublicDtoSchema } from '../../listings/dto';
import { listListingsQuerySchema, patchListingSchema, upsertListingSchema } from '../../listings/schema';
import { exampleIds, listingExample, patchListingExample, upsertListingExample } from '../examples';
import { dataOf, errors, idempotencyHeader, json, pageOf, uuidParam } from '../shared';

/** Reference 000: images belong to a listing that exists, and should be ready before it goes live. */
export const RECOMMENDED_ORDER =
  'Recommended order: 1. create the listing (status draft), 2. upload its images, 3. set status to active once the images are ready.';

export const listingIdParams = z.object({ id: uuidParam(exampleIds.LISTING_ID, 'The listing id') });

export function registerListingPaths(registry: OpenAPIRegistry): void {
  const tags = ['Listings'];
  registry.registerPath({
    method: 'post',
    path: '/api/v1/listings',
    operationId: 'upsertListing',
    summary: 'Create or update a listing',
    description: `Upsert by \`external_ref\`, your CRM's own id: 201 when it is new, 200 when it existed. Send an \`Idempotency-Key\` to retry safely. ${RECOMMENDED_ORDER}`,
    tags,
    request: { headers: idempotencyHeader, body: { required: true, content: json(upsertListingSchema, upsertListingExample) } },
    responses: {
      201: { description: 'Created', content: dataOf(listingPublicDtoSchema, { ...listingExample, status: 'draft', revision: 1, publication: { state: 'unpublished', published_at: null } }) },
      200: { description: 'Updated (the external_ref existed)', content: dataOf(listingPublicDtoSchema, listingExample) },
      ...errors(400, 401, 403, 404, 409, 413, 429, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings',
    operationId: 'listListings',
    summary: 'List listings',
    description: 'Cursor pagination, oldest change first: pass `next_cursor` back as `cursor` until `has_more` is false.',
    tags,
    request: { query: listListingsQuerySchema },
    responses: { 200: { description: 'A page', content: pageOf(listingPublicDtoSchema, listingExample) }, ...errors(400, 401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings/{id}',
    operationId: 'getListing',
    summary: 'Get a listing',
    tags,
    request: { params: listingIdParams },
    responses: { 200: { description: 'The listing', content: dataOf(listingPublicDtoSchema, listingExample) }, ...errors(401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/listings/{id}',
    operationId: 'updateListing',
    summary: 'Update a listing',
    description: 'Partial update; `null` clears a field. Also moves the lifecycle (draft, active, rented, archived): only draft → active publishes. `status` is what your CRM asked for; `publication.state` says whether the listing is live.',
    tags,
    request: { params: listingIdParams, headers: idempotencyHeader, body: { required: true, content: json(patchListingSchema, patchListingExample) } },
    responses: {
      200: { description: 'Updated', content: dataOf(listingPublicDtoSchema, { ...listingExample, publication: { state: 'pending', published_at: null } }) },
      ...errors(400, 401, 403, 404, 409, 429, 503),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/listings/{id}',
    operationId: 'deleteListing',
    summary: 'Delete a listing',
    description: 'Needs `listings:delete`; emits `listing.deleted` and takes the listing down on every target.',
    tags,
    request: { params: listingIdParams, headers: idempotencyHeader },
    responses: {
      200: { description: 'Deleted', content: dataOf(z.object({ id: z.uuid(), deleted: z.literal(true) }), { id: exampleIds.LISTING_ID, deleted: true }) },
      ...errors(401, 403, 404, 429, 503),
    },
  });
}
