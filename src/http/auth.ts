import type { RequestHandler } from 'express';
import { FeatureFlag } from '../domain/featureFlags';
import { Scope, scopeGrants } from '../domain/scopes';
import type { AuthContext } from '../identity/authContext';
import type { IdentityService } from '../identity/service';
import { ApiError } from './errors';
import { rateLimitMeter } from './rateLimit';

/**
 * Reads `X-API-Key` (header names are case-insensitive), resolves the caller and, in the same
 * round trip, counts the request against the key's rate-limit window (see `rateLimitPerKey`).
 */
export function authenticate(identity: IdentityService, rateLimitWindowMs: number): RequestHandler {
  return async (req, _res, next) => {
    const presented = req.get('x-api-key')?.trim();
    if (!presented) {
      throw new ApiError(401, 'UNAUTHENTICATED', 'Missing API key. Send it in the X-API-Key header.');
    }
    const authenticated = await identity.authenticate(presented, rateLimitMeter(Date.now(), rateLimitWindowMs));
    if (!authenticated) throw new ApiError(401, 'UNAUTHENTICATED', 'The API key is unknown or has been revoked.');
    req.auth = authenticated.auth;
    req.requestsInRateLimitWindow = authenticated.requestsInWindow ?? undefined;
    next();
  };
}

export function authOf(req: { auth?: AuthContext }): AuthContext {
  if (!req.auth) throw new ApiError(401, 'UNAUTHENTICATED', 'Missing API key. Send it in the X-API-Key header.');
  return req.auth;
}

/** Routes that act on an organisation's data server-side never accept publishable keys. */
export const requireSecretKey: RequestHandler = (req, _res, next) => {
  if (authOf(req).kind !== 'secret') {
    throw ApiError.insufficientScope('This endpoint requires a secret key (sk_live_… or sk_test_…); publishable keys cannot call it.');
  }
  next();
};

export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    if (!scopeGrants(authOf(req).scopes, scope)) {
      throw ApiError.insufficientScope(`This API key lacks the scope ${scope}.`);
    }
    next();
  };
}

/** A dark-shipped surface: while the flag is off the routes answer as if they did not exist. */
export function requireFeatureFlag(flag: FeatureFlag): RequestHandler {
  return (req, _res, next) => {
    if (authOf(req).org.featureFlags[flag] !== true) {
      throw new ApiError(404, 'NOT_FOUND', `No route for ${req.method} ${req.originalUrl.split('?')[0]}.`);
    }
    next();
  };
}
