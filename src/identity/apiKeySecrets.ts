import { createHash, randomInt } from 'node:crypto';
import { API_KEY_BODY_LENGTH, ApiKeyKind, ApiKeyMode, apiKeyPrefix } from '../domain/apiKeys';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function generateApiKey(kind: ApiKeyKind, mode: ApiKeyMode): string {
  let body = '';
  for (let i = 0; i < API_KEY_BODY_LENGTH; i += 1) body += BASE62[randomInt(BASE62.length)];
  return apiKeyPrefix(kind, mode) + body;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
