import { API_KEY_BODY_LENGTH, apiKeyPrefix, displayHint, parseApiKey } from '../../../src/domain/apiKeys';

const BODY = 'aZ09bY18cX27dW36eV45fU54gT63hS72'; // 32 base62 characters, all three classes

describe('apiKeyPrefix', () => {
  it.each([
    ['secret', 'live', 'sk_live_'],
    ['secret', 'test', 'sk_test_'],
    ['publishable', 'live', 'pk_live_'],
    ['publishable', 'test', 'pk_test_'],
  ] as const)('%s/%s → %s', (kind, mode, prefix) => {
    expect(apiKeyPrefix(kind, mode)).toBe(prefix);
  });
});

describe('parseApiKey', () => {
  it('has a 32-character body', () => {
    expect(API_KEY_BODY_LENGTH).toBe(32);
    expect(BODY).toHaveLength(32);
  });

  it.each([
    ['sk_live_', { kind: 'secret', mode: 'live' }],
    ['sk_test_', { kind: 'secret', mode: 'test' }],
    ['pk_live_', { kind: 'publishable', mode: 'live' }],
    ['pk_test_', { kind: 'publishable', mode: 'test' }],
  ])('recognises %s keys', (prefix, expected) => {
    expect(parseApiKey(prefix + BODY)).toEqual(expected);
  });

  it('accepts bodies of digits only, upper case only and lower case only', () => {
    expect(parseApiKey(`sk_live_${'0'.repeat(32)}`)).toEqual({ kind: 'secret', mode: 'live' });
    expect(parseApiKey(`sk_live_${'Z'.repeat(32)}`)).toEqual({ kind: 'secret', mode: 'live' });
    expect(parseApiKey(`pk_test_${'z'.repeat(32)}`)).toEqual({ kind: 'publishable', mode: 'test' });
  });

  it.each([
    ['body one character short', `sk_live_${BODY.slice(1)}`],
    ['body one character long', `sk_live_${BODY}x`],
    ['empty body', 'sk_live_'],
    ['body only', BODY],
    ['empty string', ''],
  ])('rejects a key with the wrong length: %s', (_label, key) => {
    expect(parseApiKey(key)).toBeNull();
  });

  it.each(['-', '_', '+', '/', '=', ' ', '.', 'é', 'ß', '\n'])('rejects a body containing %j', (character) => {
    expect(parseApiKey(`sk_live_${character}${BODY.slice(1)}`)).toBeNull();
    expect(parseApiKey(`sk_live_${BODY.slice(0, 31)}${character}`)).toBeNull();
  });

  it.each([
    ['unknown kind', `rk_live_${BODY}`],
    ['unknown mode', `sk_prod_${BODY}`],
    ['upper-case prefix', `SK_LIVE_${BODY}`],
    ['mixed-case kind', `Sk_live_${BODY}`],
    ['dash separators', `sk-live-${BODY}`],
    ['missing mode', `sk_${BODY}`],
    ['missing trailing underscore', `sk_live${BODY}`],
    ['modes swapped with kind', `live_sk_${BODY}`],
    ['leading space', ` sk_live_${BODY}`],
    ['trailing space', `sk_live_${BODY} `],
    ['trailing newline', `sk_live_${BODY}\n`],
    ['Bearer prefix left on', `Bearer sk_live_${BODY}`],
    ['two keys', `sk_live_${BODY}sk_live_${BODY}`],
  ])('rejects a wrong prefix or framing: %s', (_label, key) => {
    expect(parseApiKey(key)).toBeNull();
  });
});

describe('displayHint', () => {
  it('shows the prefix plus the first four body characters, then an ellipsis', () => {
    expect(displayHint(`sk_live_${BODY}`)).toBe('sk_live_aZ09…');
    expect(displayHint(`pk_test_${BODY}`)).toBe('pk_test_aZ09…');
  });

  it('never contains more than four characters of the body', () => {
    const key = `sk_test_${BODY}`;
    const hint = displayHint(key);
    expect(hint.endsWith('…')).toBe(true);
    const shown = hint.slice('sk_test_'.length, -1);
    expect(shown).toBe(BODY.slice(0, 4));
    expect(hint).not.toContain(BODY.slice(0, 5));
  });
});
