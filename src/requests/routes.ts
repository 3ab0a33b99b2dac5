import express, { Router } from 'express';
import type { AppDeps } from '../http/app';
import { authOf, requireScope, requireSecretKey } from '../http/auth';
import { sendData, sendList } from '../http/envelope';
import { ApiError } from '../http/errors';
import { cursorPagination, decodeCursor } from '../http/pagination';
import { uuidParamOr404 } from '../http/params';
import { idempotency } from '../idempotency/middleware';
import { toRequestDto } from './dto';
import { createInboxService, toInboxDto } from './inboxes';
import { createMailIngress, readMailHeaders } from './ingress';
import { inboundMailQuerySchema, listRequestsQuerySchema } from './schema';
import { createRequestService } from './service';

const NOT_FOUND = 'No contact request with this id exists in this organisation.';

/**
 * Contact requests (docs/REQUESTS.md): GET /requests, GET and DELETE /requests/{id}, the HTTP
 * alternative to SMTP (POST /inbound/mail) and POST /inbox/rotate.
 */
export function requestsRouter(deps: AppDeps): Router {
  const { db, storage, config } = deps;
  const service = createRequestService(db, storage, config);
  const inboxes = createInboxService(db, config);
  const ingress = createMailIngress(deps);
  const idempotent = idempotency(db, deps.relaxedDb, config.IDEMPOTENCY_TTL);
  const router = Router();

  router.get('/requests', requireSecretKey, requireScope('requests:read'), async (req, res) => {
    const query = listRequestsQuerySchema.parse(req.query);
    const rows = await service.list(authOf(req).orgId, {
      afterSeq: decodeCursor(query.cursor),
      listingId: query.listing_id,
      since: query.since,
      email: query.email,
      limit: query.limit,
    });
    const page = rows.slice(0, query.limit);
    const next = rows.length > query.limit ? page[page.length - 1].seq : null;
    sendList(res, page.map(toRequestDto), cursorPagination(next, query.limit));
  });

  router.get('/requests/:id', requireSecretKey, requireScope('requests:read'), async (req, res) => {
    const row = await service.get(authOf(req).orgId, uuidParamOr404(req.params.id, NOT_FOUND));
    if (!row) throw ApiError.notFound(NOT_FOUND);
    sendData(res, toRequestDto(row));
  });

  router.delete('/requests/:id', requireSecretKey, requireScope('requests:delete'), async (req, res) => {
    const erased = await service.erase(authOf(req).orgId, uuidParamOr404(req.params.id, NOT_FOUND));
    if (!erased) throw ApiError.notFound(NOT_FOUND);
    sendData(res, toRequestDto(erased));
  });

  router.post('/inbox/rotate', requireSecretKey, requireScope('requests:write'), idempotent, async (req, res) => {
    sendData(res, toInboxDto(await inboxes.rotate(authOf(req).orgId)), 201);
  });

  router.post(
    '/inbound/mail',
    requireSecretKey,
    requireScope('requests:write'),
    express.raw({ type: 'message/rfc822', limit: config.INBOUND_MAIL_MAX_BYTES }),
    async (req, res) => {
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
        throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the raw e-mail with Content-Type: message/rfc822.');
      }
      const { recipient } = inboundMailQuerySchema.parse(req.query);
      const raw: Buffer = req.body;
      const orgId = authOf(req).orgId;
      const current = await inboxes.current(orgId);
      let inbox = current;
      if (recipient) {
        // The caller named the recipient: a wrong one is the caller's mistake, answered now.
        const named = await inboxes.byAddress(recipient);
        if (!named || named.org_id !== orgId || named.retired_at) {
          throw ApiError.validation([{ path: 'recipient', message: `${recipient} is not an active inbox of this organisation` }]);
        }
        inbox = named;
      } else {
        // Otherwise the mail's own headers say; an address of ours that is not this
        // organisation's inbox is reported like any mail that cannot become a request.
        const addressed = (await readMailHeaders(raw)).recipients.find((address) => address.endsWith(`@${config.INBOUND_MAIL_DOMAIN}`));
        const named = addressed ? await inboxes.byAddress(addressed) : undefined;
        if (addressed && (!named || named.org_id !== orgId || named.retired_at)) {
          await ingress.refuse({
            inbox: current,
            recipient: addressed,
            head: raw,
            size: raw.length,
            via: 'http',
            failureCode: 'unknown_organisation',
            failureMessage: `The mail is addressed to ${addressed}, which is not an active inbox of this organisation (yours is ${current.address}).`,
          });
          sendData(res, { mail_id: null, status: 'refused' }, 202);
          return;
        }
        if (named) inbox = named;
      }
      const accepted = await ingress.accept({ inbox, recipient: inbox.address, raw, via: 'http' });
      sendData(res, { mail_id: accepted.mailId, status: accepted.status }, 202);
    },
  );

  return router;
}
