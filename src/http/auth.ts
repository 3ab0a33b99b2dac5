import type { RequestHandler } from 'express';
import { FeatureFlag } from '../domain/featureFlags';
import { Scope, scopeGrants } from '../domain/scopes';
import type { AuthContext } from '../identity/authContext';
import type { IdentityService } from '../identity/service';
import { ApiError } from './errors';

/** Reads `X-API-Key` (header names are case-insensitive) and resolves the caller. */
export function authenticate(identity: IdentityService): RequestHandler {
  return async (req, _res, next) => {
    const presented = req.get('x-api-key')?.trim();
    if (!presented) {
      throw new ApiError(401, 'UNAUTHENTICATED', 'Missing API key. Send it in the X-API-Key header.');
    }
    const auth = await identity.authenticate(presented);
    if (!auth) throw new ApiError(401, 'UNAUTHENTICATED', 'The API key is unknown or has been revoked.');
    req.auth = auth;
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
