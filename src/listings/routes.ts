import { Router } from 'express';
import type { AppDeps } from '../http/app';
import { authOf, requireFeatureFlag, requireScope, requireSecretKey } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { ApiError } from '../http/errors';
import { cursorPagination, decodeCursor } from '../http/pagination';
import type { WorkflowStart } from '../domain/outbox';
import { completeIdempotentRequest, idempotency } from '../idempotency/middleware';
import { taskQueues } from '../temporal/taskQueues';
import { createListingService } from './service';
import { listListingsQuerySchema, listingIdSchema, patchListingSchema, upsertListingSchema } from './schema';

function parseListingId(id: string | string[] | undefined): string {
  const parsed = listingIdSchema.safeParse(id);
  // A malformed id cannot name a listing of this organisation: same answer as a missing one.
  if (!parsed.success) throw ApiError.notFound('No listing with this id in your organization.');
  return parsed.data;
}

/** The listings write surface of reference 000, dark-shipped behind LISTINGS_WRITE_API_ENABLED. */
export function listingsRouter(deps: AppDeps): Router {
  const service = createListingService(deps.db, taskQueues(deps.config).main);
  const idempotent = idempotency(deps.db, deps.relaxedDb, deps.config.IDEMPOTENCY_TTL);
  // Respond first, then start the owed workflows: the outbox makes the start durable either way.
  const dispatchAfterResponse = (owed: WorkflowStart[]) => {
    setImmediate(() => void deps.outbox.dispatch(owed));
  };

  const listings = Router();
  listings.use(requireFeatureFlag('LISTINGS_WRITE_API_ENABLED'), requireSecretKey);

  listings.post('/', requireScope('listings:write'), idempotent, async (req, res) => {
    const input = upsertListingSchema.parse(req.body);
    const result = await service.upsert(authOf(req), input, (trx, outcome) =>
      completeIdempotentRequest(trx, res, outcome.created ? 201 : 200, { data: outcome.listing }),
    );
    sendData(res, result.listing, result.created ? 201 : 200);
    dispatchAfterResponse(result.owedWorkflows);
  });

  listings.get('/', requireScope('listings:read'), async (req, res) => {
    const query = listListingsQuerySchema.parse(req.query);
    const page = await service.list(authOf(req), { ...query, afterSeq: decodeCursor(query.cursor) });
    sendList(res, page.listings, cursorPagination(page.nextSeq, query.limit));
  });

  listings.get('/:id', requireScope('listings:read'), async (req, res) => {
    sendData(res, await service.get(authOf(req), parseListingId(req.params.id)));
  });

  listings.patch('/:id', requireScope('listings:write'), idempotent, async (req, res) => {
    const id = parseListingId(req.params.id);
    const input = patchListingSchema.parse(req.body);
    const result = await service.patch(authOf(req), id, input, (trx, outcome) => completeIdempotentRequest(trx, res, 200, { data: outcome.listing }));
    sendData(res, result.listing);
    dispatchAfterResponse(result.owedWorkflows);
  });

  listings.delete('/:id', requireScope('listings:delete'), idempotent, async (req, res) => {
    const deleted = (id: string) => ({ id, deleted: true as const });
    const result = await service.remove(authOf(req), parseListingId(req.params.id), (trx, outcome) =>
      completeIdempotentRequest(trx, res, 200, { data: deleted(outcome.id) }),
    );
    sendData(res, deleted(String(req.params.id)));
    dispatchAfterResponse(result.owedWorkflows);
  });

  const router = Router();
  router.use('/listings', listings);
  return router;
}
