import { randomUUID } from 'node:crypto';
import createClient, { type Client, type ClientPathsWithMethod, type FetchResponse, type MaybeOptionalInit, type Middleware } from 'openapi-fetch';
import { ImmoflowNetworkError, isApiErrorBody } from './errors';
import type { paths } from './schema';

export type ImmoflowPaths = paths;
/** The plain openapi-fetch client: `GET`, `POST`, `PATCH`, `DELETE` return `{ data, error, response }`. */
export type ImmoflowBaseClient = Client<paths>;
type Media = ImmoflowBaseClient extends Client<paths, infer M> ? M : never;

export interface RetryOptions {
  /** Retries after the first attempt, for network failures and IDEMPOTENCY_KEY_IN_USE alike. Default 3. */
  retries?: number;
  /** First backoff after a network failure; doubles per retry, with ±20 % jitter. Default 250 ms. */
  baseDelayMs?: number;
  /** Upper bound of any wait, Retry-After included. Default 10 000 ms. */
  maxDelayMs?: number;
}

export interface ImmoflowClientOptions {
  /** The API's origin, e.g. `https://api.immoflow.example` (paths already start with /api/v1). */
  baseUrl: string;
  /** A secret (`sk_…`) or publishable (`pk_…`) key, sent as X-API-Key. */
  apiKey: string;
  /** A fetch to use instead of globalThis.fetch (a proxy agent, a test double). It receives a Request. */
  fetch?: (input: Request) => Promise<Response>;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Defaults for `client.idempotent.*`. */
  retry?: RetryOptions;
}

export interface IdempotencyOptions {
  /** Reuse a key (e.g. one stored with the CRM record before sending); a fresh UUID v4 otherwise. */
  idempotencyKey?: string;
  retry?: RetryOptions;
}

type HttpWriteMethod = 'post' | 'put' | 'patch' | 'delete';

// openapi-fetch's own helper (not exported): the init argument is optional exactly when nothing in it is required.
type RequiredKeysOfHelper<T> = { [K in keyof T]: {} extends Pick<T, K> ? never : K }[keyof T];
type RequiredKeysOf<T> = RequiredKeysOfHelper<T> extends undefined ? never : RequiredKeysOfHelper<T>;
export type InitParam<Init> = RequiredKeysOf<Init> extends never ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];

export type IdempotentResult<Path extends keyof paths, Method extends HttpWriteMethod, Init> = FetchResponse<paths[Path][Method] & Record<string | number, unknown>, Init, Media> & {
  /** The key that was sent, on every attempt; keep it to retry later. */
  idempotencyKey: string;
  /** How many requests were made (1 when nothing had to be retried). */
  attempts: number;
};

export type IdempotentMethod<Method extends HttpWriteMethod> = <
  Path extends ClientPathsWithMethod<ImmoflowBaseClient, Method>,
  Init extends MaybeOptionalInit<paths[Path], Method>,
>(
  url: Path,
  ...init: InitParam<Init & IdempotencyOptions>
) => Promise<IdempotentResult<Path, Method, Init>>;

export interface ImmoflowClient extends ImmoflowBaseClient {
  /**
   * Writes that are safe to retry: each call sends one Idempotency-Key (generated unless given) on
   * every attempt, retries a network failure (fetch threw: no answer arrived, so the write may or
   * may not have run) and a 409 IDEMPOTENCY_KEY_IN_USE (an earlier attempt is still running) after
   * Retry-After. The server runs the write at most once per key and replays its answer, with
   * `Idempotent-Replayed: true`, to the retries. HTTP errors (4xx, 5xx) are returned, not retried.
   */
  idempotent: {
    POST: IdempotentMethod<'post'>;
    PUT: IdempotentMethod<'put'>;
    PATCH: IdempotentMethod<'patch'>;
    DELETE: IdempotentMethod<'delete'>;
  };
}

const DEFAULT_RETRY: Required<RetryOptions> = { retries: 3, baseDelayMs: 250, maxDelayMs: 10_000 };

/** A typed client for the Immoflow API. */
export function createImmoflowClient(options: ImmoflowClientOptions): ImmoflowClient {
  const base = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { ...options.headers, 'X-API-Key': options.apiKey },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const defaults = { ...DEFAULT_RETRY, ...options.retry };
  const method = (name: 'POST' | 'PUT' | 'PATCH' | 'DELETE') =>
    ((url: string, init?: Record<string, unknown> & IdempotencyOptions) => idempotentCall(base, name, url, init, defaults)) as never;
  return Object.assign(base, { idempotent: { POST: method('POST'), PUT: method('PUT'), PATCH: method('PATCH'), DELETE: method('DELETE') } });
}

/** Marks what fetch itself threw, so a retry never follows an error of our own or of parsing. */
class FetchFailed extends Error {
  constructor(readonly original: unknown) {
    super('fetch failed', { cause: original });
  }
}

const tagFetchFailures: Middleware = { onError: ({ error }) => new FetchFailed(error) };

async function idempotentCall(
  client: ImmoflowBaseClient,
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  init: (Record<string, unknown> & IdempotencyOptions) | undefined,
  defaults: Required<RetryOptions>,
): Promise<unknown> {
  const { idempotencyKey, retry, ...rest } = init ?? {};
  const params = rest.params as { header?: Record<string, unknown> } | undefined;
  const fromParams = params?.header?.['Idempotency-Key'];
  const key = idempotencyKey ?? (typeof fromParams === 'string' ? fromParams : randomUUID());
  const policy = { ...defaults, ...retry };
  const signal = rest.signal as AbortSignal | undefined;
  const requestInit = {
    ...rest,
    // params.header is merged last by openapi-fetch, over `headers` (left as given: it may be a Headers or an array).
    params: { ...params, header: { ...params?.header, 'Idempotency-Key': key } },
    middleware: [...((rest.middleware as Middleware[] | undefined) ?? []), tagFetchFailures],
  };
  const call = client[method] as (url: string, init: unknown) => Promise<{ error?: unknown; response: Response }>;

  for (let attempt = 1; ; attempt += 1) {
    let result: { error?: unknown; response: Response };
    try {
      result = await call(url, requestInit);
    } catch (error) {
      if (!(error instanceof FetchFailed)) throw error;
      // An abort is the caller's decision, not a failure to retry.
      if (signal?.aborted) throw error.original;
      if (attempt > policy.retries) throw new ImmoflowNetworkError(error.original, key, attempt);
      await sleep(backoff(policy, attempt), signal);
      continue;
    }
    const inUse = result.response.status === 409 && isApiErrorBody(result.error) && result.error.error.code === 'IDEMPOTENCY_KEY_IN_USE';
    if (inUse && attempt <= policy.retries) {
      await sleep(retryAfterMs(result.response, policy) ?? backoff(policy, attempt), signal);
      continue;
    }
    return Object.assign(result, { idempotencyKey: key, attempts: attempt });
  }
}

function backoff(policy: Required<RetryOptions>, attempt: number): number {
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  // Jitter spreads the retries of many clients that failed at the same moment (a restart).
  return Math.min(policy.maxDelayMs, exponential * (0.8 + Math.random() * 0.4));
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(response: Response, policy: Required<RetryOptions>): number | undefined {
  const header = response.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(policy.maxDelayMs, Math.max(0, ms)) : undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
