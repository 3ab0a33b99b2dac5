/**
 * Fixed-window rate limiting: a key may make `limit` requests per window. The counter itself
 * lives in Postgres (shared by every API replica), which replicas draw from in leases; this module
 * only does the arithmetic.
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

/**
 * How many requests an API replica claims from a key's shared counter at once, given the count it
 * last saw. A sixteenth of what is left, at most `maxLease`: a busy key costs a round trip per
 * lease instead of per request, and as the budget runs out leases shrink to one request each, so
 * the last requests of a window are counted exactly whichever replica serves them. A replica that
 * stops with unspent requests costs its key at most one lease of the window's budget.
 */
export function leaseSize(limit: number, countSeen: number, maxLease = 100): number {
  return Math.max(1, Math.min(maxLease, Math.floor((limit - countSeen) / 16)));
}

/**
 * Of `claimed` requests just added to a counter that now reads `countAfter`, how many fit in the
 * limit: the rest of the lease lies past it and admits nothing.
 */
export function grantedFromLease(claimed: number, countAfter: number, limit: number): number {
  return Math.max(0, Math.min(claimed, limit - (countAfter - claimed)));
}
