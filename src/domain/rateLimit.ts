/**
 * Fixed-window rate limiting: a key may make `limit` requests per window. The counter itself
 * lives in Postgres (shared by every API replica); this module only does the arithmetic.
 */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export function windowStart(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs) * windowMs;
}

export function decideRateLimit(count: number, limit: number, nowMs: number, windowMs: number): RateLimitDecision {
  const resetMs = windowStart(nowMs, windowMs) + windowMs - nowMs;
  return {
    allowed: count <= limit,
    limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
  };
}
