import type { RequestHandler } from 'express';
import { FeatureFlag } from '../domain/featureFlags';
import { Scope, scopeGrants } from '../domain/scopes';
import type { AuthContext } from '../identity/authContext';
import type { IdentityService } from '../identity/service';
import { ApiError } from './errors';

const MISSING_KEY = 'Missing API key. Send it in the X-API-Key header or as Authorization: Bearer <key>.';
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The key a request presents: `X-API-Key`, else `Authorization: Bearer <key>` (as Stripe takes it).
 * X-API-Key wins when both are sent, so a proxy or gateway that puts its own credential in
 * Authorization cannot change which key is used. An Authorization of another scheme is a mistake
 * worth naming rather than an anonymous 401.
 */
export function presentedKey(headers: { get(name: string): string | undefined }): string {
  const header = headers.get('x-api-key')?.trim();
  if (header) return header;
  const authorization = headers.get('authorization')?.trim();
  if (!authorization) throw new ApiError(401, 'UNAUTHENTICATED', MISSING_KEY);
  const bearer = BEARER.exec(authorization);
  if (!bearer) {
    const scheme = authorization.split(/\s/)[0].slice(0, 20);
    const problem = scheme.toLowerCase() === 'bearer' ? 'The Bearer token is empty.' : `Unsupported Authorization scheme "${scheme}".`;
    throw new ApiError(401, 'UNAUTHENTICATED', `${problem} Send the key as Authorization: Bearer <key>, or in the X-API-Key header.`);
  }
  return bearer[1];
}

/** Reads the API key (X-API-Key or a Bearer token) and resolves the caller. */
export function authenticate(identity: IdentityService): RequestHandler {
  return async (req, _res, next) => {
    const presented = presentedKey({ get: (name) => req.get(name) });
    const auth = await identity.authenticate(presented);
    if (!auth) throw new ApiError(401, 'UNAUTHENTICATED', 'The API key is unknown or has been revoked.');
    req.auth = auth;
    next();
  };
}

export function authOf(req: { auth?: AuthContext }): AuthContext {
  if (!req.auth) throw new ApiError(401, 'UNAUTHENTICATED', MISSING_KEY);
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
