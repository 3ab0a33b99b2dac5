import { Router } from 'express';
import { MAX_ATTACHMENTS_PER_LISTING } from '../domain/attachments';
import type { AppDeps } from '../http/app';
import { authOf, requireFeatureFlag, requireScope, requireSecretKey } from '../http/auth';
import { sendList } from '../http/envelope';
import { ApiError } from '../http/errors';
import { uuidParamOr404 } from '../http/params';
import { loadAttachments, toAttachmentDtos } from './service';

const LISTING_NOT_FOUND = 'No listing with this id in your organization.';

/** GET /listings/{id}/attachments: a listing's URL attachments with their fetch state. */
export function attachmentsRouter(deps: AppDeps): Router {
  const attachments = Router({ mergeParams: true });
  attachments.use(requireFeatureFlag('LISTINGS_WRITE_API_ENABLED'), requireSecretKey);

  attachments.get('/', requireScope('listings:read'), async (req, res) => {
    const listingId = uuidParamOr404(req.params.id, LISTING_NOT_FOUND);
    const listing = await deps.db('listings').where({ id: listingId, org_id: authOf(req).orgId }).whereNull('deleted_at').first('id');
    if (!listing) throw ApiError.notFound(LISTING_NOT_FOUND);
    const rows = (await loadAttachments(deps.db, [listingId])).get(listingId) ?? [];
    // Every attachment of the listing on one page (there are at most 150).
    sendList(res, toAttachmentDtos(deps.config, rows), { next_cursor: null, has_more: false, limit: MAX_ATTACHMENTS_PER_LISTING });
  });

  const router = Router();
  router.use('/listings/:id/attachments', attachments);
  return router;
}
