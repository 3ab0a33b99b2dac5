/**
 * API key formats: `sk_live_`, `sk_test_` (secret) and `pk_live_`, `pk_test_` (publishable),
 * followed by 32 base62 characters. The prefix is public; the whole key is stored only as a hash.
 */
export const API_KEY_KINDS = ['secret', 'publishable'] as const;
export type ApiKeyKind = (typeof API_KEY_KINDS)[number];
export const API_KEY_MODES = ['live', 'test'] as const;
export type ApiKeyMode = (typeof API_KEY_MODES)[number];

export const API_KEY_BODY_LENGTH = 32;
const KIND_PREFIX: Record<ApiKeyKind, string> = { secret: 'sk', publishable: 'pk' };
const KEY_PATTERN = /^(sk|pk)_(live|test)_([0-9A-Za-z]{32})$/;

export function apiKeyPrefix(kind: ApiKeyKind, mode: ApiKeyMode): string {
  return `${KIND_PREFIX[kind]}_${mode}_`;
}

export function parseApiKey(text: string): { kind: ApiKeyKind; mode: ApiKeyMode } | null {
  const match = KEY_PATTERN.exec(text);
  if (!match) return null;
  return { kind: match[1] === 'sk' ? 'secret' : 'publishable', mode: match[2] as ApiKeyMode };
}

/** The part shown in listings and logs: prefix plus the first four characters of the body. */
export function displayHint(key: string): string {
  return `${key.slice(0, 12)}…`;
}
