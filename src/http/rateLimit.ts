import type { RequestHandler } from 'express';
import type { Db } from '../db/knex';
import { decideRateLimit, windowStart } from '../domain/rateLimit';
import { ApiError } from './errors';

export const RATE_LIMIT_WINDOW_MS = 3_600_000;

/** Which counter a request of a key increments: one row per key and fixed window. */
export function rateLimitMeter(nowMs: number, windowMs: number): { bucketPrefix: string; windowStart: Date } {
  return { bucketPrefix: 'key:', windowStart: new Date(windowStart(nowMs, windowMs)) };
}

/**
 * Per-key fixed-window limit. The counter lives in Postgres, so every API replica shares one
 * budget; `authenticate` increments it in the round trip that resolves the key, and this
 * middleware decides. Sets the IETF `RateLimit-*` headers on every authenticated response.
 */
export function rateLimitPerKey(limit: number, windowMs = RATE_LIMIT_WINDOW_MS): RequestHandler {
  return (req, res, next) => {
    const count = req.requestsInRateLimitWindow;
    if (count === undefined) throw new Error('rateLimitPerKey runs after authenticate, which counts the request');
    const decision = decideRateLimit(count, limit, Date.now(), windowMs);
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
export async function pruneRateLimitCounters(db: Db, olderThanMs = 2 * RATE_LIMIT_WINDOW_MS): Promise<number> {
  return db('rate_limit_counters').where('window_start', '<', new Date(Date.now() - olderThanMs)).delete();
}
