import { Router } from 'express';
import type { AppDeps } from '../http/app';
import { authOf, requireFeatureFlag, requireScope, requireSecretKey } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { ApiError } from '../http/errors';
import { cursorPagination, decodeCursor } from '../http/pagination';
import { uuidParamOr404 } from '../http/params';
import { claimIdempotencyKey, completeIdempotentRequest, idempotency, idempotentClaimInStatement } from '../idempotency/middleware';
import { withRelations } from './relations';
import { createListingService } from './service';
import { listListingsQuerySchema, listingIdSchema, patchListingSchema, upsertListingSchema } from './schema';

const LISTING_NOT_FOUND = 'No listing with this id in your organization.';
const parseListingId = (id: string | string[] | undefined) => uuidParamOr404(id, LISTING_NOT_FOUND);

/** The listings write surface of reference 000, dark-shipped behind LISTINGS_WRITE_API_ENABLED. */
export function listingsRouter(deps: AppDeps): Router {
  const service = createListingService(deps.db, deps.config);
  const idempotent = idempotency(deps.db, deps.relaxedDb, deps.config.IDEMPOTENCY_TTL);
  // POST claims its key inside the create's statement (ListingService.tryCreate).
  const idempotentDeferred = idempotency(deps.db, deps.relaxedDb, deps.config.IDEMPOTENCY_TTL, { deferClaim: true });

  const listings = Router();
  listings.use(requireFeatureFlag('LISTINGS_WRITE_API_ENABLED'), requireSecretKey);

  listings.post('/', requireScope('listings:write'), idempotentDeferred, async (req, res) => {
    const input = upsertListingSchema.parse(req.body);
    const auth = authOf(req);
    const created = await service.tryCreate(auth, input, (result, guard) => idempotentClaimInStatement(res, 201, { data: result.listing }, guard));
    if (created) return sendData(res, created.listing, 201);
    // An existing external_ref (or a key another request holds): the classic claim, then the update.
    if (!(await claimIdempotencyKey(res))) return;
    const result = await service.upsert(auth, input, async (trx, outcome) => {
      // A listing created just now has no images: the create path skips the gallery query.
      if (!outcome.created) [outcome.listing] = await withRelations(trx, deps.config, [outcome.listing]);
      await completeIdempotentRequest(trx, res, outcome.created ? 201 : 200, { data: outcome.listing });
    });
    sendData(res, result.listing, result.created ? 201 : 200);
  });

  listings.get('/', requireScope('listings:read'), async (req, res) => {
    const query = listListingsQuerySchema.parse(req.query);
    const page = await service.list(authOf(req), { ...query, afterSeq: decodeCursor(query.cursor) });
    sendList(res, await withRelations(deps.db, deps.config, page.listings), cursorPagination(page.nextSeq, query.limit));
  });

  listings.get('/:id', requireScope('listings:read'), async (req, res) => {
    const [listing] = await withRelations(deps.db, deps.config, [await service.get(authOf(req), parseListingId(req.params.id))]);
    sendData(res, listing);
  });

  listings.patch('/:id', requireScope('listings:write'), idempotent, async (req, res) => {
    const id = parseListingId(req.params.id);
    const input = patchListingSchema.parse(req.body);
    const result = await service.patch(authOf(req), id, input, async (trx, outcome) => {
      [outcome.listing] = await withRelations(trx, deps.config, [outcome.listing]);
      await completeIdempotentRequest(trx, res, 200, { data: outcome.listing });
    });
    sendData(res, result.listing);
  });

  listings.delete('/:id', requireScope('listings:delete'), idempotent, async (req, res) => {
    const deleted = (id: string) => ({ id, deleted: true as const });
    await service.remove(authOf(req), parseListingId(req.params.id), (trx, outcome) =>
      completeIdempotentRequest(trx, res, 200, { data: deleted(outcome.id) }),
    );
    sendData(res, deleted(String(req.params.id)));
  });

  const router = Router();
  router.use('/listings', listings);
  return router;
}
