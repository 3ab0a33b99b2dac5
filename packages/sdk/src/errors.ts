/** The error envelope every Immoflow API error uses (docs/CONVENTIONS.md, "Errors"). */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    details?: Record<string, unknown>;
    request_id: string;
  };
}

/** A non-2xx answer, thrown by `unwrap` and `paginate` (the plain client returns `{ error }` instead of throwing). */
export class ImmoflowApiError extends Error {
  override readonly name = 'ImmoflowApiError';
  /** `VALIDATION_ERROR`, `NOT_FOUND`, … or `HTTP_<status>` when the body is not the error envelope (a proxy's page). */
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Quote it when asking for support: it finds the request in Immoflow's logs. */
  readonly requestId: string | undefined;
  readonly response: Response;

  constructor(response: Response, body: unknown) {
    const envelope = isApiErrorBody(body) ? body.error : undefined;
    super(envelope ? `${response.status} ${envelope.code}: ${envelope.message}` : `HTTP ${response.status}`);
    this.status = response.status;
    this.code = envelope?.code ?? `HTTP_${response.status}`;
    this.details = envelope?.details;
    this.requestId = envelope?.request_id ?? response.headers.get('x-request-id') ?? undefined;
    this.response = response;
  }
}

/**
 * A request that never got an answer (connection refused or reset, DNS failure), after the
 * idempotent helper used up its retries. Retrying later with `idempotencyKey` is safe: the server
 * runs the write at most once per key.
 */
export class ImmoflowNetworkError extends Error {
  override readonly name = 'ImmoflowNetworkError';
  readonly idempotencyKey: string;
  readonly attempts: number;

  constructor(cause: unknown, idempotencyKey: string, attempts: number) {
    super(`network failure after ${attempts} attempt(s) with Idempotency-Key ${idempotencyKey}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.idempotencyKey = idempotencyKey;
    this.attempts = attempts;
  }
}

export function isApiErrorBody(body: unknown): body is ApiErrorBody {
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' && typeof (error as { message?: unknown }).message === 'string';
}

/**
 * `const listing = await unwrap(client.GET(...))`: the data of a 2xx, else throws
 * ImmoflowApiError, for code that prefers exceptions to checking `error` on every call.
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ImmoflowApiError(response, error);
  return data as T;
}
