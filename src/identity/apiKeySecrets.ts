import { createHash, randomInt } from 'node:crypto';
import { API_KEY_BODY_LENGTH, ApiKeyKind, ApiKeyMode, apiKeyPrefix } from '../domain/apiKeys';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters from a CSPRNG: 5.95 bits each. */
export function randomBase62(length: number): string {
  let body = '';
  for (let i = 0; i < length; i += 1) body += BASE62[randomInt(BASE62.length)];
  return body;
}

export function generateApiKey(kind: ApiKeyKind, mode: ApiKeyMode): string {
  return apiKeyPrefix(kind, mode) + randomBase62(API_KEY_BODY_LENGTH);
}

/**
 * SHA-256 of a random credential (API key, client secret, token). Such credentials carry 190 bits
 * or more of randomness, so a fast hash is safe and lets a lookup be one indexed query. Passwords,
 * which people choose, use a memory-hard KDF instead (src/identity/passwords.ts).
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function hashApiKey(key: string): string {
  return hashToken(key);
}
