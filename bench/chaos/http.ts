/** One request to the stack's API over real HTTP, as a CRM sends it; every chaos scenario uses it. */

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface ApiRequestOptions {
  key?: string | null;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, with Content-Type application/json unless `headers` names another. */
  rawBody?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function apiRequest(apiUrl: string, method: string, path: string, options: ApiRequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.key) headers['X-API-Key'] = options.key;
  const body = options.body !== undefined ? JSON.stringify(options.body) : options.rawBody;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  Object.assign(headers, options.headers);
  // Redirects are the API's answer to judge, not to follow.
  const response = await fetch(new URL(path, apiUrl), { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
