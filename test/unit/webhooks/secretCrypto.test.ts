import { createDecipheriv, randomBytes } from 'node:crypto';
import { createSecretBox, generateWebhookSecret } from '../../../src/webhooks/secretCrypto';

const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='; // bytes 0x00..0x1f
const PLAINTEXT = 'whsec_Zm9vYmFyYmF6cXV4 — Grüße';
/** Produced independently with Python's cryptography AESGCM (key above, IV = bytes 100..111). */
const KNOWN_CIPHERTEXT = 'v1:ZGVmZ2hpamtsbW5v:aFdn3CNGzYEx9wRQDSdseg==:P3OtAxq2DPMHFAaFnBwzkAT0ZVLdWNOQJ0WMD4lgGYsLjA==';

/** Replaces one base64 field of a v1 ciphertext with the same bytes, one bit flipped. */
function flipBit(encrypted: string, field: 1 | 2 | 3, byteIndex = 0): string {
  const parts = encrypted.split(':');
  const bytes = Buffer.from(parts[field], 'base64');
  bytes[byteIndex] ^= 0x01;
  parts[field] = bytes.toString('base64');
  return parts.join(':');
}

describe('createSecretBox', () => {
  const box = createSecretBox(KEY);

  it('round-trips text, including non-ASCII and the empty string', () => {
    for (const text of [PLAINTEXT, '', 'x'.repeat(10_000), generateWebhookSecret()]) {
      expect(box.decrypt(box.encrypt(text))).toBe(text);
    }
  });

  it('decrypts a ciphertext produced by an independent AES-256-GCM implementation', () => {
    expect(box.decrypt(KNOWN_CIPHERTEXT)).toBe(PLAINTEXT);
  });

  it('writes v1:<12-byte IV>:<16-byte tag>:<ciphertext> that plain AES-256-GCM with the raw key decrypts', () => {
    const encrypted = box.encrypt(PLAINTEXT);
    expect(encrypted).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    const [, iv, tag, ciphertext] = encrypted.split(':').map((part) => Buffer.from(part, 'base64'));
    expect(iv).toHaveLength(12);
    expect(tag).toHaveLength(16);
    expect(ciphertext).toHaveLength(Buffer.byteLength(PLAINTEXT, 'utf8'));
    expect(ciphertext.toString('utf8')).not.toContain('whsec_');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(KEY, 'base64'), iv);
    decipher.setAuthTag(tag);
    expect(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')).toBe(PLAINTEXT);
  });

  it('uses a fresh random IV each time', () => {
    const encryptions = Array.from({ length: 50 }, () => box.encrypt(PLAINTEXT));
    expect(new Set(encryptions).size).toBe(50);
    expect(new Set(encryptions.map((e) => e.split(':')[1])).size).toBe(50);
  });

  it.each([
    ['the IV', 1],
    ['the tag', 2],
    ['the ciphertext', 3],
  ] as const)('rejects a ciphertext with a bit flipped in %s', (_label, field) => {
    const encrypted = box.encrypt(PLAINTEXT);
    expect(() => box.decrypt(flipBit(encrypted, field))).toThrow(/failed authentication/);
  });

  it('rejects tampering with the last ciphertext byte too', () => {
    const encrypted = box.encrypt(PLAINTEXT);
    const last = Buffer.from(encrypted.split(':')[3], 'base64').length - 1;
    expect(() => box.decrypt(flipBit(encrypted, 3, last))).toThrow(/failed authentication/);
  });

  it('rejects a truncated authentication tag instead of accepting a short (forgeable) tag', () => {
    const [version, iv, tag, ciphertext] = box.encrypt(PLAINTEXT).split(':');
    const shortTag = Buffer.from(tag, 'base64').subarray(0, 12).toString('base64');
    expect(() => box.decrypt([version, iv, shortTag, ciphertext].join(':'))).toThrow(/malformed/);
  });

  it('rejects a ciphertext encrypted under another key', () => {
    const other = createSecretBox(randomBytes(32).toString('base64'));
    expect(() => other.decrypt(box.encrypt(PLAINTEXT))).toThrow(/failed authentication/);
  });

  it.each([
    '',
    'garbage',
    'v2:ZGVmZ2hpamtsbW5v:aFdn3CNGzYEx9wRQDSdseg==:P3OtAxq2',
    'v1:ZGVmZ2hpamtsbW5v:aFdn3CNGzYEx9wRQDSdseg==',
    'v1:ZGVmZ2hpamtsbW5v:aFdn3CNGzYEx9wRQDSdseg==:P3OtAxq2:extra',
    'v1:ZGVm:aFdn3CNGzYEx9wRQDSdseg==:P3OtAxq2', // 3-byte IV
    'v1:ZGVmZ2hpamtsbW5v:aFdn3CNGzYEx9wRQDSdseg==:not base64!',
  ])('rejects the malformed ciphertext %j', (encrypted) => {
    expect(() => box.decrypt(encrypted)).toThrow(/format|malformed/);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64'), /exactly 32 bytes.*got 16/],
    ['31 bytes', randomBytes(31).toString('base64'), /exactly 32 bytes.*got 31/],
    ['33 bytes', randomBytes(33).toString('base64'), /exactly 32 bytes.*got 33/],
    ['64 bytes', randomBytes(64).toString('base64'), /exactly 32 bytes.*got 64/],
    ['an empty string', '', /exactly 32 bytes.*got 0/],
    ['32 hex-encoded bytes', randomBytes(32).toString('hex'), /exactly 32 bytes/],
    ['not base64', 'this is not a key, just a passphrase!!', /standard base64/],
    ['unpadded base64', KEY.replace(/=+$/, ''), /standard base64/],
  ])('rejects a key of %s', (_label, key, message) => {
    expect(() => createSecretBox(key)).toThrow(message);
  });

  it('does not echo the key in the error', () => {
    const key = randomBytes(16).toString('base64');
    expect(() => createSecretBox(key)).toThrow(expect.objectContaining({ message: expect.not.stringContaining(key) }));
  });
});

describe('generateWebhookSecret', () => {
  it('is whsec_ followed by standard base64 of 32 bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
  });

  it('is different every time', () => {
    expect(new Set(Array.from({ length: 100 }, generateWebhookSecret)).size).toBe(100);
  });
});
