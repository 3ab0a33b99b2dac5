import { createLinkSigner } from '../../../src/partners/connectLinks';

const key = Buffer.alloc(32, 3).toString('base64');
const linkId = '4f9c2a4e-8d1b-4c55-9e0a-3b7d2f1e6a90';
const now = Date.parse('2026-12-02T12:00:00Z');
const tomorrow = new Date(now + 24 * 3600_000);

describe('connect link tokens', () => {
  const signer = createLinkSigner(key);

  it('round-trips the link id and its expiry (to the second)', () => {
    const verdict = signer.verify(signer.sign(linkId, tomorrow), now);
    expect(verdict).toEqual({ ok: true, linkId, expiresAt: tomorrow });
  });

  it('refuses a changed signature, id or expiry as tampered', () => {
    const token = signer.sign(linkId, tomorrow);
    const [id, expires, signature] = token.split('.');
    const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    expect(signer.verify(`${id}.${expires}.${flipped}`, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(signer.verify(`${id}.${Number(expires) + 1}.${signature}`, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(signer.verify(`${id.replace('4f9c', '4f9d')}.${expires}.${signature}`, now)).toEqual({ ok: false, reason: 'tampered' });
    for (const junk of ['', 'abc', `${token}.extra`, `${id}.${expires}`, `not-a-uuid.${expires}.${signature}`, `${id}.-1.${signature}`]) {
      expect(signer.verify(junk, now)).toEqual({ ok: false, reason: 'tampered' });
    }
  });

  it('refuses a link signed with another key', () => {
    const other = createLinkSigner(Buffer.alloc(32, 4).toString('base64'));
    expect(signer.verify(other.sign(linkId, tomorrow), now)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('calls a genuine link past its expiry expired', () => {
    expect(signer.verify(signer.sign(linkId, new Date(now - 1000)), now)).toEqual({ ok: false, reason: 'expired' });
  });

  it('needs a 32-byte key', () => {
    expect(() => createLinkSigner(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
