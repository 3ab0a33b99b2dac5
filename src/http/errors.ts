import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';

/** Error codes a client can observe (reference guides + DESIGN §8). */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'UNAUTHENTICATED'
  | 'INSUFFICIENT_SCOPE'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_KEY_IN_USE'
  | 'INVALID_STATUS_TRANSITION'
  | 'WEBHOOK_INACTIVE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'DATABASE_UNAVAILABLE'
  | 'TEMPORAL_UNAVAILABLE'
  | 'STORAGE_UNAVAILABLE'
  | 'TARGET_UNAVAILABLE'
  | 'TARGET_REFUSED'
  | 'TARGET_RATE_LIMITED'
  | 'INTERNAL_ERROR';

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  static validation(fields: FieldError[], message = 'The request is invalid; see details.fields.'): ApiError {
    return new ApiError(400, 'VALIDATION_ERROR', message, { fields });
  }

  static notFound(message = 'The requested resource does not exist.'): ApiError {
    return new ApiError(404, 'NOT_FOUND', message);
  }

  static insufficientScope(message: string): ApiError {
    return new ApiError(403, 'INSUFFICIENT_SCOPE', message);
  }

  static forbidden(message: string, details?: Record<string, unknown>): ApiError {
    return new ApiError(403, 'FORBIDDEN', message, details);
  }
}

/** Thrown by code that talks to an engine (Postgres, Temporal, MinIO) when it is unreachable. */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: 'postgres' | 'temporal' | 'minio',
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable`, { cause });
  }
}

/** One entry per bad field; several problems with one field are joined into its message. */
export function zodFieldErrors(error: ZodError): FieldError[] {
  const byPath = new Map<string, string[]>();
  for (const entry of zodIssueEntries(error)) byPath.set(entry.path, [...(byPath.get(entry.path) ?? []), entry.message]);
  return [...byPath].map(([path, messages]) => ({ path, message: [...new Set(messages)].join('; ') }));
}

function zodIssueEntries(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const prefix = issue.path.map(String).join('.');
    // One entry per unknown field, so a client sees which names to fix.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: prefix ? `${prefix}.${key}` : key, message: 'is not a known field' }));
    }
    return [{ path: prefix || '(body)', message: issue.message }];
  });
}

const DEPENDENCY_CODES: Record<DependencyUnavailableError['dependency'], ErrorCode> = {
  postgres: 'DATABASE_UNAVAILABLE',
  temporal: 'TEMPORAL_UNAVAILABLE',
  minio: 'STORAGE_UNAVAILABLE',
};

const PG_CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

/**
 * What node-postgres throws, without a code, when the server goes away under a connection in use
 * (a crash or an immediate shutdown): a query in flight gets "Connection terminated unexpectedly",
 * later ones on that client the "not queryable" errors. Found by `npm run chaos` scenario 3, where
 * they were 500 INTERNAL_ERROR during a Postgres restart.
 */
const PG_CONNECTION_LOST = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);

/** Recognises "Postgres is down" in the shapes knex and pg report it. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const candidate = error as { name?: string; code?: string; errors?: unknown[] };
  if (candidate.name === 'KnexTimeoutError') return true;
  if (candidate.code && PG_CONNECTION_ERRORS.has(candidate.code)) return true;
  // SQLSTATE class 08: connection exceptions.
  if (typeof candidate.code === 'string' && /^08[0-9A-Z]{3}$/.test(candidate.code)) return true;
  if (!candidate.code && error instanceof Error && PG_CONNECTION_LOST.has(error.message)) return true;
  // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
  return Array.isArray(candidate.errors) && candidate.errors.some(isDatabaseUnavailable);
}

/** Codes for framework errors that carry only an HTTP status (http-errors style). */
const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return ApiError.validation(zodFieldErrors(error));
  if (error instanceof DependencyUnavailableError) {
    return new ApiError(503, DEPENDENCY_CODES[error.dependency], `${error.dependency} is temporarily unavailable; retry later.`, undefined, {
      'Retry-After': '5',
    });
  }
  if (isDatabaseUnavailable(error)) return toApiError(new DependencyUnavailableError('postgres', error));

  // body-parser errors carry `type` and `status`.
  const bodyError = (error ?? {}) as { type?: string; status?: number; limit?: number };
  switch (bodyError.type) {
    case 'entity.too.large':
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', `The request body exceeds the limit${bodyError.limit ? ` of ${bodyError.limit} bytes` : ''}.`);
    case 'entity.parse.failed':
      return ApiError.validation([{ path: '(body)', message: 'Malformed JSON.' }], 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding; send UTF-8 JSON.');
    default:
      break;
  }
  if (bodyError.status && bodyError.status >= 400 && bodyError.status < 500) {
    const code = HTTP_STATUS_CODES[bodyError.status] ?? 'VALIDATION_ERROR';
    return new ApiError(bodyError.status, code, 'The request could not be processed.');
  }
  return new ApiError(500, 'INTERNAL_ERROR', 'An unexpected error occurred. It has been logged with the request id.');
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}.`));
};

/** The one place an error becomes a response: the envelope, the request id, never a stack. */
export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const apiError = toApiError(error);
  if (apiError.status >= 500) {
    req.log?.error({ err: error }, 'request failed');
  }
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(apiError.headers ?? {})) res.setHeader(name, value);
  res.status(apiError.status).json({
    error: {
      code: apiError.code,
      message: apiError.message,
      ...(apiError.details ? { details: apiError.details } : {}),
      request_id: req.requestId,
    },
  });
};
