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
 * One request's hold on its key. `unclaimed`: a deferred claim not made yet; `claimed`: this
 * request owns the key (in flight); `completed`: its response is stored with its write.
 */
interface IdempotencyClaim {
  orgId: string;
  key: string;
  hash: string;
  ttlMs: number;
  state: 'unclaimed' | 'claimed' | 'completed';
  /** Where the key lives; a claim may be made through the relaxed pool (see `claimIdempotencyKey`). */
  db: Db;
  relaxedDb: Db;
}

/**
 * `Idempotency-Key` (DESIGN §8). The first request claims the key with an insert; the response
 * is stored before it is sent. A replay gets the stored response with `Idempotent-Replayed: true`
 * and executes nothing; another body → 409 IDEMPOTENCY_KEY_REUSED; a duplicate that arrives
 * while the first is still running → 409 IDEMPOTENCY_KEY_IN_USE. Failures (5xx) release the key.
 *
 * `deferClaim`: the route claims the key itself, inside its write's single statement
 * (`idempotentClaimInStatement`), or with `claimIdempotencyKey` before any other write. That
 * saves the claim's own round trip on the route's common case.
 */
export function idempotency(db: Db, relaxedDb: Db, ttlMs: number, options: { deferClaim?: boolean } = {}): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('idempotency-key');
    if (header === undefined) return next();
    if (!idempotencyKeySchema.safeParse(header).success) {
      throw ApiError.validation([{ path: 'Idempotency-Key', message: 'must be a UUID v4, e.g. 7c9e6a3d-1f2b-4c8a-9d10-abc123def456' }]);
    }
    const pending: IdempotencyClaim = {
      orgId: authOf(req).orgId,
      key: header.toLowerCase(),
      hash: requestHash(req.method, req.baseUrl + req.path, req.body),
      ttlMs,
      state: 'unclaimed',
      db,
      relaxedDb,
    };
    res.locals.idempotency = pending;
    captureResponse(res, async (status, body) => {
      // Only the request that holds the key stores or releases it; nothing else may touch it.
      if (pending.state !== 'claimed') return;
      if (status >= 500) {
        await db('idempotency_keys').where({ org_id: pending.orgId, key: pending.key }).delete();
      } else {
        await storeResponse(db, pending, status, body);
      }
    });
    if (options.deferClaim || (await claimIdempotencyKey(res))) next();
  };
}

/**
 * Claims the request's key now. True when the request may execute (it holds the key, or sent no
 * key); false when the stored response was replayed (the caller must stop). Throws the 409s.
 */
export async function claimIdempotencyKey(res: Response): Promise<boolean> {
  const pending = res.locals.idempotency as IdempotencyClaim | undefined;
  if (!pending || pending.state !== 'unclaimed') return true;
  // The claim may be relaxed: it becomes durable with the write it guards.
  if (await claim(pending.relaxedDb, pending)) {
    pending.state = 'claimed';
    return true;
  }
  const stored: StoredKey | undefined = await pending.db('idempotency_keys').where({ org_id: pending.orgId, key: pending.key }).first();
  if (stored && stored.request_hash !== pending.hash) {
    throw new ApiError(409, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body. Use a fresh key per distinct payload.');
  }
  // Not visible yet (the claim commits without waiting) or still running: never a second execution.
  if (!stored || stored.state === 'in_flight') {
    throw new ApiError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is being processed; retry shortly.', undefined, { 'Retry-After': '1' });
  }
  res.setHeader('Idempotent-Replayed', 'true');
  res.status(stored.response_status ?? 200).json(stored.response_body);
  return false;
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
  if (claim.state !== 'claimed') throw new Error('completeIdempotentRequest needs the key claimed first (claimIdempotencyKey)');
  await storeResponse(trx, claim, status, body);
  claim.state = 'completed';
}

/** The claim of a deferred key, made inside a write's single statement; call `committed` after. */
export interface StatementClaim extends SqlFragment {
  committed(): void;
}

/**
 * For a write that is one statement: a CTE body that claims the key with the response already
 * stored (state completed), when `guard` (an SQL condition: the write did something) holds. It
 * returns a row when the key was free (or expired). The caller must not let the write commit
 * without that row: the key belongs to another request (a replay, or the same key with another
 * body), and the write is then rolled back and the request goes through `claimIdempotencyKey`.
 * Null for requests without an Idempotency-Key (or whose key is already claimed).
 */
export function idempotentClaimInStatement(res: Response, status: number, body: unknown, guard: string): StatementClaim | null {
  const pending = res.locals.idempotency as IdempotencyClaim | undefined;
  if (!pending || pending.state !== 'unclaimed') return null;
  return {
    sql: `insert into idempotency_keys (org_id, key, request_hash, state, response_status, response_body, expires_at)
        select ?::uuid, ?::uuid, ?, 'completed', ?::int, ?::jsonb, now() + (?::bigint * interval '1 millisecond') where ${guard}
        ${REPLACE_EXPIRED}
        returning key`,
    bindings: [pending.orgId, pending.key, pending.hash, status, JSON.stringify(body), pending.ttlMs],
    committed: () => {
      pending.state = 'completed';
    },
  };
}

/** A key's row is only ever replaced once it has expired. */
const REPLACE_EXPIRED = `on conflict (org_id, key) do update
       set request_hash = excluded.request_hash, state = excluded.state, response_status = excluded.response_status,
           response_body = excluded.response_body, created_at = now(), expires_at = excluded.expires_at
       where idempotency_keys.expires_at < now()`;

/** Inserts the key; an expired leftover is replaced. True when this request owns the key. */
async function claim(db: Db, pending: IdempotencyClaim): Promise<boolean> {
  const { rows } = await db.raw<{ rows: unknown[] }>(
    `insert into idempotency_keys (org_id, key, request_hash, state, expires_at)
     values (?, ?, ?, 'in_flight', now() + (? * interval '1 millisecond'))
     ${REPLACE_EXPIRED}
     returning key`,
    [pending.orgId, pending.key, pending.hash, pending.ttlMs],
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
