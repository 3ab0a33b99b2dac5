import type { RequestHandler, Response } from 'express';
import type { Db } from '../db/knex';
import { preparedQuery } from '../db/sql';
import { RateLimitDecision, decideRateLimit, grantedFromLease, leaseSize, windowStart } from '../domain/rateLimit';
import { authOf } from './auth';
import { ApiError } from './errors';

export const RATE_LIMIT_WINDOW_MS = 3_600_000;

interface Lease {
  windowStart: number;
  /** Requests this replica claimed from the shared counter and has not admitted yet. */
  unspent: number;
  /** The shared counter after this replica's last claim. */
  countSeen: number;
  claiming?: Promise<unknown>;
}

const MAX_TRACKED_KEYS = 10_000;

/**
 * A replica's view of the shared per-key counters: it admits requests from leases it claimed from
 * Postgres (see `leaseSize`), one claim in flight per key. `admit` returns the request's number
 * in its key's window as far as this replica knows: exact with one replica; with several, what
 * the others claimed since this replica's last claim shows up at its next one, so its
 * RateLimit-Remaining may run ahead by at most their current leases. Admission itself is exact:
 * no replica admits a request the shared counter did not grant it.
 */
function createRateLimitLeases(relaxedDb: Db, limit: number, windowMs: number) {
  const leases = new Map<string, Lease>();
  let prunedForWindow = 0;

  async function claim(keyId: string, lease: Lease): Promise<number> {
    const claimed = leaseSize(limit, lease.countSeen);
    const { rows } = await preparedQuery<{ count: number }>(
      relaxedDb,
      `insert into rate_limit_counters (bucket, window_start, count) values (?, ?, ?)
       on conflict (bucket, window_start) do update set count = rate_limit_counters.count + excluded.count
       returning count`,
      [`key:${keyId}`, new Date(lease.windowStart), claimed],
    );
    lease.countSeen = rows[0].count;
    const granted = grantedFromLease(claimed, lease.countSeen, limit);
    lease.unspent += granted;
    return granted;
  }

  function leaseOf(keyId: string, start: number): Lease {
    const current = leases.get(keyId);
    if (current && current.windowStart === start) return current;
    // Past windows' leases are worthless; sweep them once per window, when the map has grown.
    if (leases.size >= MAX_TRACKED_KEYS && prunedForWindow !== start) {
      prunedForWindow = start;
      for (const [id, lease] of leases) if (lease.windowStart !== start) leases.delete(id);
    }
    const fresh: Lease = { windowStart: start, unspent: 0, countSeen: 0 };
    leases.set(keyId, fresh);
    return fresh;
  }

  return async function admit(keyId: string, nowMs: number): Promise<number> {
    const start = windowStart(nowMs, windowMs);
    for (;;) {
      const lease = leaseOf(keyId, start);
      if (lease.unspent > 0) {
        lease.unspent -= 1;
        return lease.countSeen - lease.unspent;
      }
      if (lease.claiming) {
        await lease.claiming.catch(() => undefined);
        continue;
      }
      const claiming = claim(keyId, lease);
      lease.claiming = claiming;
      try {
        // Nothing granted: the window's budget is spent, and this request counted past it.
        if ((await claiming) === 0) return lease.countSeen;
      } finally {
        lease.claiming = undefined;
      }
    }
  };
}

/**
 * Per-key fixed-window limit. The counters live in Postgres, so every API replica shares one
 * budget; replicas claim it in leases (see `leaseSize`). Sets the IETF `RateLimit-*` headers on
 * every authenticated response.
 */
export function rateLimitPerKey(relaxedDb: Db, limit: number, windowMs = RATE_LIMIT_WINDOW_MS): RequestHandler {
  const admit = createRateLimitLeases(relaxedDb, limit, windowMs);
  return async (req, res, next) => {
    const now = Date.now();
    const count = await admit(authOf(req).keyId, now);
    const decision = decideRateLimit(count, limit, now, windowMs);
    setRateLimitHeaders(res, decision, windowMs);
    if (!decision.allowed) throw rateLimited(decision, `Rate limit of ${limit} requests per ${Math.round(windowMs / 60_000)} minutes exceeded for this API key.`);
    next();
  };
}

/** The IETF `RateLimit-*` headers of a decision. */
export function setRateLimitHeaders(res: Response, decision: RateLimitDecision, windowMs = RATE_LIMIT_WINDOW_MS): void {
  res.setHeader('RateLimit-Limit', String(decision.limit));
  res.setHeader('RateLimit-Remaining', String(decision.remaining));
  res.setHeader('RateLimit-Reset', String(decision.resetSeconds));
  res.setHeader('RateLimit-Policy', `${decision.limit};w=${Math.round(windowMs / 1000)}`);
}

export function rateLimited(decision: RateLimitDecision, message: string): ApiError {
  return new ApiError(429, 'RATE_LIMITED', message, { limit: decision.limit, reset_seconds: decision.resetSeconds }, { 'Retry-After': String(decision.resetSeconds) });
}

/**
 * A fixed-window counter in Postgres for endpoints too rare to need leases (partner tokens, failed
 * logins): `hits` adds to `bucket`'s count in the current window (0 only reads it) and the result
 * judges the count against `limit`. Every replica shares the counter.
 */
export async function countInWindow(db: Db, bucket: string, limit: number, hits: 0 | 1, windowMs = RATE_LIMIT_WINDOW_MS): Promise<RateLimitDecision> {
  const now = Date.now();
  const start = new Date(windowStart(now, windowMs));
  if (hits === 0) {
    const row: { count: number } | undefined = await db('rate_limit_counters').where({ bucket, window_start: start }).first('count');
    // A read judges what the next hit would make, so it is not taken for a request over the limit.
    return decideRateLimit((row?.count ?? 0) + 1, limit, now, windowMs);
  }
  const { rows } = await db.raw<{ rows: { count: number }[] }>(
    `insert into rate_limit_counters (bucket, window_start, count) values (?, ?, ?)
     on conflict (bucket, window_start) do update set count = rate_limit_counters.count + excluded.count
     returning count`,
    [bucket, start, hits],
  );
  return decideRateLimit(rows[0].count, limit, now, windowMs);
}

/** Old windows are useless; the resync sweep calls this to keep the table small. */
export async function pruneRateLimitCounters(db: Db, olderThanMs = 2 * RATE_LIMIT_WINDOW_MS): Promise<number> {
  return db('rate_limit_counters').where('window_start', '<', new Date(Date.now() - olderThanMs)).delete();
}
