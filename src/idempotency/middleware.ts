import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Db } from '../db/knex';
import type { SqlFragment } from '../db/sql';
import { authOf } from '../http/auth';
import { ApiError } from '../http/errors';
import { idempotencyKeySchema } from '../listings/schema';

interface StoredKey {
  request_hash: string;
  state: 'in_flight' | 'completed';
  response_status: number | null;
  response_body: unknown;
  expires_at: Date;
}

function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body ?? null)}`).digest('hex');
}

/**
 * `Idempotency-Key` (DESIGN §8). The first request claims the key with an insert; the response
 * is stored before it is sent. A replay gets the stored response with `Idempotent-Replayed: true`
 * and executes nothing; another body → 409 IDEMPOTENCY_KEY_REUSED; a duplicate that arrives
 * while the first is still running → 409 IDEMPOTENCY_KEY_IN_USE. Failures (5xx) release the key.
 */
export function idempotency(db: Db, relaxedDb: Db, ttlMs: number): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('idempotency-key');
    if (header === undefined) return next();
    if (!idempotencyKeySchema.safeParse(header).success) {
      throw ApiError.validation([{ path: 'Idempotency-Key', message: 'must be a UUID v4, e.g. 7c9e6a3d-1f2b-4c8a-9d10-abc123def456' }]);
    }
    const key = header.toLowerCase();
    const orgId = authOf(req).orgId;
    const hash = requestHash(req.method, req.baseUrl + req.path, req.body);

    // The claim may be relaxed: it becomes durable with the write it guards.
    const claimed = await claim(relaxedDb, orgId, key, hash, ttlMs);
    if (!claimed) {
      const stored: StoredKey | undefined = await db('idempotency_keys').where({ org_id: orgId, key }).first();
      if (stored && stored.request_hash !== hash) {
        throw new ApiError(409, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body. Use a fresh key per distinct payload.');
      }
      // Not visible yet (the claim commits without waiting) or still running: never a second execution.
      if (!stored || stored.state === 'in_flight') {
        throw new ApiError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is being processed; retry shortly.', undefined, { 'Retry-After': '1' });
      }
      res.setHeader('Idempotent-Replayed', 'true');
      res.status(stored.response_status ?? 200).json(stored.response_body);
      return;
    }
    const pending: IdempotencyClaim = { orgId, key, completedWithinWrite: false };
    res.locals.idempotency = pending;
    captureResponse(res, async (status, body) => {
      if (pending.completedWithinWrite) return;
      if (status >= 500) {
        await db('idempotency_keys').where({ org_id: orgId, key }).delete();
      } else {
        await storeResponse(db, pending, status, body);
      }
    });
    next();
  };
}

interface IdempotencyClaim {
  orgId: string;
  key: string;
  completedWithinWrite: boolean;
}

async function storeResponse(executor: Db, claim: IdempotencyClaim, status: number, body: unknown): Promise<void> {
  await executor('idempotency_keys')
    .where({ org_id: claim.orgId, key: claim.key })
    .update({ state: 'completed', response_status: status, response_body: JSON.stringify(body) });
}

/**
 * Stores the response inside the write's own transaction, so the write and its idempotent replay
 * commit together: a crash can never leave a committed write whose key still says "in flight".
 * A no-op for requests without an Idempotency-Key.
 */
export async function completeIdempotentRequest(trx: Db, res: Response, status: number, body: unknown): Promise<void> {
  const claim = res.locals.idempotency as IdempotencyClaim | undefined;
  if (!claim) return;
  await storeResponse(trx, claim, status, body);
  claim.completedWithinWrite = true;
}

/** `completeIdempotentRequest` for a write that is one statement: SQL to embed, then `committed`. */
export interface StatementResponse extends SqlFragment {
  /** Call once the statement has committed. */
  committed(): void;
}

/**
 * The update that stores the response, for a write made of one statement (the caller appends
 * its own condition with `and …`); null for requests without an Idempotency-Key.
 */
export function idempotentResponseUpdate(res: Response, status: number, body: unknown): StatementResponse | null {
  const claim = res.locals.idempotency as IdempotencyClaim | undefined;
  if (!claim) return null;
  return {
    sql: `update idempotency_keys set state = 'completed', response_status = ?, response_body = ?::jsonb where org_id = ? and key = ?`,
    bindings: [status, JSON.stringify(body), claim.orgId, claim.key],
    committed: () => {
      claim.completedWithinWrite = true;
    },
  };
}

/** Inserts the key; an expired leftover is replaced. True when this request owns the key. */
async function claim(db: Db, orgId: string, key: string, hash: string, ttlMs: number): Promise<boolean> {
  const { rows } = await db.raw<{ rows: unknown[] }>(
    `insert into idempotency_keys (org_id, key, request_hash, state, expires_at)
     values (?, ?, ?, 'in_flight', now() + (? * interval '1 millisecond'))
     on conflict (org_id, key) do update
       set request_hash = excluded.request_hash, state = 'in_flight', response_status = null,
           response_body = null, created_at = now(), expires_at = excluded.expires_at
       where idempotency_keys.expires_at < now()
     returning key`,
    [orgId, key, hash, ttlMs],
  );
  return rows.length === 1;
}

/** Stores the response before it goes out, so a replay can never see a half-finished key. */
function captureResponse(res: Response, store: (status: number, body: unknown) => Promise<void>): void {
  const send = res.json.bind(res);
  res.json = (body: unknown) => {
    store(res.statusCode, body)
      .catch((error) => res.req.log?.error({ err: error }, 'could not store the idempotent response'))
      .finally(() => send(body));
    return res;
  };
}

export async function pruneExpiredIdempotencyKeys(db: Db): Promise<number> {
  return db('idempotency_keys').where('expires_at', '<', new Date()).delete();
}
