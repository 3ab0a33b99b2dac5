import { createHash } from 'node:crypto';
import type { Config } from '../config';
import { parseRetryAfter } from '../domain/publications';
import { createGuardedDispatcher, guardedFetch, resolverFromConfig } from '../http/ssrfGuard';

export type PortalConfig = Pick<Config, 'WEBHOOK_ALLOW_TARGETS' | 'SSRF_DNS_SERVERS' | 'TARGET_TIMEOUT'>;

export interface PortalResponse {
  status: number;
  body: unknown;
  retryAfterMs?: number;
}

/** The portal could not be reached at all (refused, reset, timed out, blocked by the SSRF guard). */
export class PortalUnreachableError extends Error {
  override name = 'PortalUnreachableError';
}

export const PORTAL_USER_AGENT = 'Immoflow-Publisher/1.0';

/**
 * Immoflow's outbound HTTP to the portals it publishes to, through the SSRF guard with the
 * resolved address pinned (a portal's base URL is operator input). One dispatcher per process,
 * so connections to a portal are pooled.
 */
export function createPortalClient(config: PortalConfig) {
  const policy = { allowTargets: config.WEBHOOK_ALLOW_TARGETS, resolve: resolverFromConfig(config), timeoutMs: config.TARGET_TIMEOUT };
  const dispatcher = createGuardedDispatcher({ ...policy, agentOptions: { connections: 32 } });

  async function send(url: string, init: { method: string; headers: Record<string, string>; body?: string | Buffer }): Promise<Response> {
    try {
      return await guardedFetch(url, { ...init, headers: { 'User-Agent': PORTAL_USER_AGENT, ...init.headers } }, { ...policy, dispatcher });
    } catch (error) {
      throw new PortalUnreachableError(`${init.method} ${new URL(url).pathname}: ${(error as Error).message}`);
    }
  }

  return {
    /** A JSON call to `baseUrl` + `path`; any HTTP status is an answer, only no answer throws. */
    async json(baseUrl: string, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<PortalResponse> {
      const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
      if (options.body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await send(new URL(path.replace(/^\/+/, ''), withTrailingSlash(baseUrl)).toString(), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new PortalUnreachableError(`${method} ${path}: the answer broke off (${(error as Error).message})`);
      }
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: response.status, body, retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()) };
    },

    /** PUT of bytes to a presigned upload URL the portal handed out (reference 000 step 4). */
    async upload(url: string, bytes: Buffer, contentType: string): Promise<number> {
      const response = await send(url, { method: 'PUT', headers: { 'Content-Type': contentType }, body: bytes });
      await response.body?.cancel().catch(() => undefined);
      return response.status;
    },

    close: () => dispatcher.close(),
  };
}

export type PortalClient = ReturnType<typeof createPortalClient>;

/** Joins paths under the base URL's own path (`https://portal/api` + `crm/oauth`). */
function withTrailingSlash(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
}

/**
 * The Idempotency-Key of one push: the same for every retry of one (listing revision, target,
 * kind of push), so a retried upsert is answered from the portal's record instead of running
 * twice; shaped as a UUID v4, which reference 000 asks for.
 */
export function pushIdempotencyKey(parts: { listingId: string; revision: number; targetId: string; step: string }): string {
  const hex = createHash('sha256').update(`${parts.listingId}:${parts.revision}:${parts.targetId}:${parts.step}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
