import { Router } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import { isImageId } from '../domain/images';
import { workflowIds } from '../domain/workflowIds';
import type { AppDeps } from '../http/app';
import { authOf, requireFeatureFlag, requireScope, requireSecretKey } from '../http/auth';
import { sendData } from '../http/envelope';
import { ApiError, DependencyUnavailableError } from '../http/errors';
import { uuidParamOr404 } from '../http/params';
import { completeIdempotentRequest, idempotency } from '../idempotency/middleware';
import { completeUploadSchema, createImageSchema, deleteImageQuerySchema, patchImageSchema } from './schema';
import { IMAGE_NOT_FOUND, createImageService } from './service';
import { createPublicPresigner } from './storage';

const parseListingId = (id: string | string[] | undefined) => uuidParamOr404(id, 'No listing with this id in your organization.');

function parseImageId(id: unknown): string {
  if (!isImageId(id)) throw ApiError.notFound(IMAGE_NOT_FOUND);
  return id;
}

/**
 * Listing images (reference 000 step 4): the API hands out a presigned PUT and later shows the
 * result; the bytes go straight to the store and the imageIngest workflow does the rest.
 */
export function imagesRouter(deps: AppDeps): Router {
  const service = createImageService(deps.db, deps.config, createPublicPresigner(deps.config));
  const idempotent = idempotency(deps.db, deps.relaxedDb, deps.config.IDEMPOTENCY_TTL);

  const images = Router({ mergeParams: true });
  images.use(requireFeatureFlag('LISTINGS_WRITE_API_ENABLED'), requireSecretKey);

  images.post('/', requireScope('listings:write'), idempotent, async (req, res) => {
    const listingId = parseListingId(req.params.id);
    const input = createImageSchema.parse(req.body);
    const ticket = await service.create(authOf(req), listingId, input, (trx, created) =>
      completeIdempotentRequest(trx, res, 201, { data: created }),
    );
    sendData(res, ticket, 201);
  });

  images.delete('/', requireScope('listings:write'), idempotent, async (req, res) => {
    const listingId = parseListingId(req.params.id);
    const imageId = parseImageId(deleteImageQuerySchema.parse(req.query).image_id);
    const body = { data: { image_id: imageId, deleted: true as const } };
    await service.remove(authOf(req), listingId, imageId, (trx) => completeIdempotentRequest(trx, res, 200, body));
    res.status(200).json(body);
  });

  images.get('/:imageId', requireScope('listings:read'), async (req, res) => {
    sendData(res, await service.get(authOf(req), parseListingId(req.params.id), parseImageId(req.params.imageId)));
  });

  images.patch('/:imageId', requireScope('listings:write'), async (req, res) => {
    const { sort_order: sortOrder } = patchImageSchema.parse(req.body);
    sendData(res, await service.reorder(authOf(req), parseListingId(req.params.id), parseImageId(req.params.imageId), sortOrder));
  });

  images.post('/:imageId/complete', requireScope('listings:write'), async (req, res) => {
    const listingId = parseListingId(req.params.id);
    const imageId = parseImageId(req.params.imageId);
    const { upload_token: token } = completeUploadSchema.parse(req.body);
    const image = await service.spendUploadToken(authOf(req), listingId, imageId, token, () => signalUploaded(deps, imageId));
    sendData(res, image, 202);
  });

  const router = Router();
  router.use('/listings/:id/images', images);
  return router;
}

/** Wakes the image's ingest workflow; one that has already finished needs no wake-up. */
export async function signalUploaded(deps: Pick<AppDeps, 'temporal'>, imageId: string): Promise<void> {
  const client = await deps.temporal.get();
  try {
    await client.workflow.getHandle(workflowIds.imageIngest(imageId)).signal('uploaded');
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return;
    throw new DependencyUnavailableError('temporal', error);
  }
}
