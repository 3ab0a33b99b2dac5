import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { completeUploadSchema, createImageSchema, deleteImageQuerySchema, imageUploadTicketSchema, listingImageDtoSchema, patchImageSchema } from '../../images/schema';
import { completeUploadExample, createImageExample, exampleIds, imageExample, imageProcessingExample, imageTicketExample, patchImageExample } from '../examples';
import { dataOf, errorResponse, errors, idempotencyHeader, json, uuidParam } from '../shared';
import { RECOMMENDED_ORDER, listingIdParams } from './listings';

const imageIds = z.object({
  id: uuidParam(exampleIds.LISTING_ID, 'The listing id'),
  image_id: z.string().meta({ description: 'The image id', example: exampleIds.IMAGE_ID }),
});

export function registerImagePaths(registry: OpenAPIRegistry): void {
  const tags = ['Images'];
  registry.registerPath({
    method: 'post',
    path: '/api/v1/listings/{id}/images',
    operationId: 'createImageUpload',
    summary: 'Request an image upload URL',
    description: `${RECOMMENDED_ORDER}

Then \`PUT\` the bytes to \`upload_url\` before \`expires_at\` (no API key; the URL is the credential). The image is processed in the background: its \`state\` on the listing goes \`awaiting_upload\` → \`processing\` → \`ready\` (with variant URLs and a \`listing.image.uploaded\` event) or \`failed\` (with a failure code: UPLOAD_EXPIRED, FILE_TOO_LARGE, EMPTY_FILE, TYPE_MISMATCH, UNDECODABLE, PROCESSING_FAILED).`,
    tags,
    request: { params: listingIdParams, headers: idempotencyHeader, body: { required: true, content: json(createImageSchema, createImageExample) } },
    responses: { 201: { description: 'The upload ticket', content: dataOf(imageUploadTicketSchema, imageTicketExample) }, ...errors(400, 401, 403, 404, 409, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/listings/{id}/images/{image_id}/complete',
    operationId: 'completeImageUpload',
    summary: 'Mark an image upload as finished',
    description: 'Optional: tell us the PUT finished, with the single-use `upload_token`, and processing starts at once instead of on the storage notification.',
    tags,
    request: { params: imageIds, body: { required: true, content: json(completeUploadSchema, completeUploadExample) } },
    responses: {
      202: { description: 'Processing', content: dataOf(listingImageDtoSchema, imageProcessingExample) },
      ...errors(400, 401, 403, 404, 429, 503),
      409: errorResponse('CONFLICT: the upload_token has already been used', 'IDEMPOTENCY_KEY_REUSED'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/listings/{id}/images/{image_id}',
    operationId: 'getImage',
    summary: 'Get an image',
    description: 'Its state, failure code and variant URLs.',
    tags,
    request: { params: imageIds },
    responses: { 200: { description: 'The image', content: dataOf(listingImageDtoSchema, imageExample) }, ...errors(401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/listings/{id}/images/{image_id}',
    operationId: 'updateImage',
    summary: "Change an image's position",
    tags,
    request: { params: imageIds, body: { required: true, content: json(patchImageSchema, patchImageExample) } },
    responses: { 200: { description: 'The image', content: dataOf(listingImageDtoSchema, { ...imageExample, sort_order: 2 }) }, ...errors(400, 401, 403, 404, 429, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/listings/{id}/images',
    operationId: 'deleteImage',
    summary: 'Delete an image',
    description: 'Removes the image and every stored object of it; emits `listing.image.deleted`.',
    tags,
    request: { params: listingIdParams, query: deleteImageQuerySchema.extend({ image_id: deleteImageQuerySchema.shape.image_id.meta({ example: exampleIds.IMAGE_ID }) }), headers: idempotencyHeader },
    responses: {
      200: { description: 'Deleted', content: dataOf(z.object({ image_id: z.string(), deleted: z.literal(true) }), { image_id: exampleIds.IMAGE_ID, deleted: true }) },
      ...errors(400, 401, 403, 404, 429, 503),
    },
  });
}
