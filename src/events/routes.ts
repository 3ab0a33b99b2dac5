import { Router } from 'express';
import type { AppDeps } from '../http/app';
import { authOf, requireScope, requireSecretKey } from '../http/auth';
import { sendList } from '../http/envelope';
import { cursorPagination, decodeCursor } from '../http/pagination';
import { listEventsQuerySchema } from './schema';
import { EventRow, toEventDto } from './service';


/** GET /api/v1/events: the organisation's event log, oldest first, as a resumable change feed. */
export function eventsRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/events', requireSecretKey, requireScope('events:read'), async (req, res) => {
    const query = listEventsQuerySchema.parse(req.query);
    const afterSeq = decodeCursor(query.cursor);
    const rows: EventRow[] = await deps
      .db('events')
      .where({ org_id: authOf(req).orgId })
      .modify((q) => {
        if (afterSeq) q.where('seq', '>', afterSeq);
        if (query.name) q.where('name', query.name);
        if (query.since) q.where('occurred_at', '>=', new Date(query.since));
      })
      .orderBy('seq', 'asc')
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const next = rows.length > query.limit ? page[page.length - 1].seq : null;
    sendList(res, page.map(toEventDto), cursorPagination(next, query.limit));
  });
  return router;
}
