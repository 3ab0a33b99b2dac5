/**
 * Connect link tokens: `<linkId>.<expiry, unix seconds>.<HMAC-SHA256, base64url>` keyed with
 * PARTNER_LINK_SIGNING_KEY. The signature makes a link unforgeable and its expiry untamperable
 * without a database read; single use and superseding are Postgres's (connect_links), which stays
 * the authority.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VERSION = 'cl1';

export type LinkTokenVerdict = { ok: true; linkId: string; expiresAt: Date } | { ok: false; reason: 'tampered' | 'expired' };

export function createLinkSigner(keyBase64: string) {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new Error('PARTNER_LINK_SIGNING_KEY must be base64 of exactly 32 bytes');
  const mac = (linkId: string, expiresSeconds: number) => createHmac('sha256', key).update(`${VERSION}.${linkId}.${expiresSeconds}`).digest();

  return {
    sign(linkId: string, expiresAt: Date): string {
      const expiresSeconds = Math.floor(expiresAt.getTime() / 1000);
      return `${linkId}.${expiresSeconds}.${mac(linkId, expiresSeconds).toString('base64url')}`;
    },

    verify(token: string, nowMs: number): LinkTokenVerdict {
      const [linkId, expiresText, signature, ...rest] = token.split('.');
      if (rest.length || !linkId || !UUID.test(linkId) || !/^\d{1,12}$/.test(expiresText ?? '') || !signature) return { ok: false, reason: 'tampered' };
      const expected = mac(linkId, Number(expiresText));
      const presented = Buffer.from(signature, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, reason: 'tampered' };
      const expiresAt = new Date(Number(expiresText) * 1000);
      if (expiresAt.getTime() <= nowMs) return { ok: false, reason: 'expired' };
      return { ok: true, linkId, expiresAt };
    },
  };
}

export type LinkSigner = ReturnType<typeof createLinkSigner>;
