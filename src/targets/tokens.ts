import type { Db } from '../db/knex';
import type { SecretBox } from '../webhooks/secretCrypto';
import { PortalClient, PortalUnreachableError } from './portalClient';
import { TargetError, TargetRow } from './targetRows';

/** A token this close to its expiry is renewed before use rather than sent. */
const EXPIRY_MARGIN_MS = 60_000;
/** When a portal's 429 names no Retry-After. */
const DEFAULT_OAUTH_BACKOFF_MS = 60_000;

interface TokenAnswer {
  'x-crm-token'?: unknown;
  expires_in?: unknown;
  expires_at?: unknown;
}

function expiryOf(answer: TokenAnswer, nowMs: number): Date {
  if (typeof answer.expires_at === 'string' && !Number.isNaN(Date.parse(answer.expires_at))) return new Date(answer.expires_at);
  if (typeof answer.expires_in === 'number' && answer.expires_in > 0) return new Date(nowMs + answer.expires_in * 1000);
  // Reference 001: "valid for 6 hours".
  return new Date(nowMs + 6 * 3_600_000);
}

type RefreshResult = { token: string } | { error: TargetError };

/**
 * The x-crm-token Immoflow holds for each target (reference 001 step 1, from the partner's side):
 * cached encrypted in Postgres and shared by every API replica and worker. A renewal takes the
 * target's row lock, so concurrent callers wait for one /crm/oauth call and reuse its token; a
 * 429 is remembered until its Retry-After, so a rate-limiting portal is not asked again before.
 */
export function createTargetTokens(db: Db, box: SecretBox, portal: PortalClient) {
  function cached(target: TargetRow, nowMs: number): string | undefined {
    if (!target.token_ciphertext || !target.token_expires_at) return undefined;
    if (target.token_expires_at.getTime() - nowMs <= EXPIRY_MARGIN_MS) return undefined;
    return box.decrypt(target.token_ciphertext);
  }

  async function requestToken(trx: Db, target: TargetRow): Promise<RefreshResult> {
    let answer;
    try {
      answer = await portal.json(target.base_url, 'POST', 'crm/oauth', {
        headers: { 'x-crm-client-id': target.client_id, 'x-crm-client-secret': box.decrypt(target.client_secret_ciphertext) },
      });
    } catch (error) {
      if (error instanceof PortalUnreachableError) return { error: new TargetError('target_unavailable', `The portal's /crm/oauth did not answer: ${error.message}`) };
      throw error;
    }
    if (answer.status === 429) {
      const waitMs = answer.retryAfterMs ?? DEFAULT_OAUTH_BACKOFF_MS;
      await trx('targets').where({ id: target.id }).update({ oauth_blocked_until: new Date(Date.now() + waitMs), updated_at: trx.fn.now() });
      return { error: new TargetError('rate_limited', `The portal rate-limits /crm/oauth; Immoflow asks again after ${Math.ceil(waitMs / 1000)} s.`, waitMs) };
    }
    if (answer.status === 401 || answer.status === 403) {
      return { error: new TargetError('unauthorized', `The portal refused Immoflow's client credentials (HTTP ${answer.status}); check the target's client id and secret.`) };
    }
    const token = (answer.body as TokenAnswer | undefined)?.['x-crm-token'];
    if (answer.status !== 200 || typeof token !== 'string' || !token) {
      return { error: new TargetError('target_unavailable', `The portal's /crm/oauth answered HTTP ${answer.status} without a token.`) };
    }
    const expiresAt = expiryOf(answer.body as TokenAnswer, Date.now());
    await trx('targets')
      .where({ id: target.id })
      .update({
        token_ciphertext: box.encrypt(token),
        token_expires_at: expiresAt,
        token_refreshed_at: trx.fn.now(),
        token_refreshes: trx.raw('token_refreshes + 1'),
        oauth_blocked_until: null,
        updated_at: trx.fn.now(),
      });
    return { token };
  }

  /**
   * A fresh token, unless another caller renewed it while this one waited for the lock. With
   * `rejected` (a token the portal just answered 401 to), only a different token counts as fresh;
   * with `minValidityMs`, only one valid that long (the schedule renews ahead of expiry).
   */
  async function renew(targetId: string, options: { rejected?: string; minValidityMs?: number } = {}): Promise<string> {
    const result = await db.transaction(async (trx): Promise<RefreshResult> => {
      const target: TargetRow | undefined = await trx('targets').where({ id: targetId }).forUpdate().first();
      if (!target || target.disabled_at) return { error: new TargetError('not_found', 'No such target.') };
      const nowMs = Date.now();
      const current = cached(target, nowMs);
      const longEnough = !options.minValidityMs || (target.token_expires_at?.getTime() ?? 0) - nowMs > options.minValidityMs;
      if (current && current !== options.rejected && longEnough) return { token: current };
      if (target.oauth_blocked_until && target.oauth_blocked_until.getTime() > nowMs) {
        const waitMs = target.oauth_blocked_until.getTime() - nowMs;
        return { error: new TargetError('rate_limited', `The portal rate-limited /crm/oauth; Immoflow asks again after ${Math.ceil(waitMs / 1000)} s.`, waitMs) };
      }
      return requestToken(trx, target);
    });
    if ('error' in result) throw result.error;
    return result.token;
  }

  return {
    /** The cached token, or one renewal. */
    async token(target: TargetRow): Promise<string> {
      return cached(target, Date.now()) ?? renew(target.id);
    },

    renew,

    /**
     * `call` with a valid token; when the portal answers 401 (a token revoked or expired early),
     * one renewal and one retry.
     */
    async withToken<T extends { status: number }>(target: TargetRow, call: (token: string) => Promise<T>): Promise<T> {
      const first = await this.token(target);
      const answer = await call(first);
      if (answer.status !== 401) return answer;
      return call(await renew(target.id, { rejected: first }));
    },
  };
}

export type TargetTokens = ReturnType<typeof createTargetTokens>;
