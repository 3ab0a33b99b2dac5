/**
 * Webhook signing secrets must be readable by the delivery worker (to sign), so they are encrypted
 * at rest rather than hashed: AES-256-GCM with a 32-byte key from configuration.
 *
 * Ciphertext format: `v1:<iv base64>:<tag base64>:<ciphertext base64>`, with a random 12-byte IV
 * per encryption and the full 16-byte GCM authentication tag.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
}

function decodeBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

/**
 * @param keyBase64 standard (padded) base64 of exactly 32 bytes, e.g. `openssl rand -base64 32`.
 * Throws — without echoing the key — if it is not.
 */
export function createSecretBox(keyBase64: string): SecretBox {
  const key = decodeBase64(keyBase64.trim());
  if (key === null) throw new Error('webhook secret encryption key must be standard base64 (e.g. `openssl rand -base64 32`)');
  if (key.length !== KEY_BYTES) {
    throw new Error(`webhook secret encryption key must decode to exactly ${KEY_BYTES} bytes for AES-256-GCM, got ${key.length}`);
  }

  return {
    encrypt(plaintext: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
    },

    decrypt(encrypted: string): string {
      const parts = encrypted.split(':');
      if (parts.length !== 4 || parts[0] !== VERSION) {
        throw new Error(`encrypted secret is not in the ${VERSION}:<iv>:<tag>:<ciphertext> format`);
      }
      const iv = decodeBase64(parts[1]);
      const tag = decodeBase64(parts[2]);
      const ciphertext = decodeBase64(parts[3]);
      if (iv === null || iv.length !== IV_BYTES || tag === null || tag.length !== TAG_BYTES || ciphertext === null) {
        throw new Error('encrypted secret is malformed (bad IV, tag or ciphertext encoding)');
      }
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('encrypted secret failed authentication (tampered, or encrypted with a different key)');
      }
    },
  };
}

/** A new webhook signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks format). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
