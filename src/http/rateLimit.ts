import type { RequestHandler } from 'express';
import type { Db } from '../db/knex';
import { decideRateLimit, windowStart } from '../domain/rateLimit';
import { authOf } from './auth';
import { ApiError } from './errors';

const HOUR_MS = 3_600_000;

/**
 * Per-key fixed-window limit, counted in Postgres so that every API replica shares one budget.
 * Sets the IETF `RateLimit-*` headers on every authenticated response.
 */
export function rateLimitPerKey(db: Db, limit: number, windowMs = HOUR_MS): RequestHandler {
  return async (req, res, next) => {
    const now = Date.now();
    const bucket = `key:${authOf(req).keyId}`;
    const { rows } = await db.raw<{ rows: { count: number }[] }>(
      `insert into rate_limit_counters (bucket, window_start, count) values (?, ?, 1)
       on conflict (bucket, window_start) do update set count = rate_limit_counters.count + 1
       returning count`,
      [bucket, new Date(windowStart(now, windowMs))],
    );
    const decision = decideRateLimit(rows[0].count, limit, now, windowMs);
    res.setHeader('RateLimit-Limit', String(decision.limit));
    res.setHeader('RateLimit-Remaining', String(decision.remaining));
    res.setHeader('RateLimit-Reset', String(decision.resetSeconds));
    res.setHeader('RateLimit-Policy', `${limit};w=${Math.round(windowMs / 1000)}`);
    if (!decision.allowed) {
      throw new ApiError(
        429,
        'RATE_LIMITED',
        `Rate limit of ${limit} requests per ${Math.round(windowMs / 60_000)} minutes exceeded for this API key.`,
        { limit, reset_seconds: decision.resetSeconds },
        { 'Retry-After': String(decision.resetSeconds) },
      );
    }
    next();
  };
}

/** Old windows are useless; the resync sweep calls this to keep the table small. */
export async function pruneRateLimitCounters(db: Db, olderThanMs = 2 * HOUR_MS): Promise<number> {
  return db('rate_limit_counters').where('window_start', '<', new Date(Date.now() - olderThanMs)).delete();
}
