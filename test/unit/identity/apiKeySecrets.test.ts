import { createHash } from 'node:crypto';
import { parseApiKey } from '../../../src/domain/apiKeys';
import { generateApiKey, hashApiKey } from '../../../src/identity/apiKeySecrets';

const COMBINATIONS = [
  ['secret', 'live', 'sk_live_'],
  ['secret', 'test', 'sk_test_'],
  ['publishable', 'live', 'pk_live_'],
  ['publishable', 'test', 'pk_test_'],
] as const;

describe('generateApiKey', () => {
  it.each(COMBINATIONS)('a %s %s key starts with %s and parses back to its kind and mode', (kind, mode, prefix) => {
    for (let i = 0; i < 50; i += 1) {
      const key = generateApiKey(kind, mode);
      expect(key.startsWith(prefix)).toBe(true);
      expect(key).toHaveLength(prefix.length + 32);
      expect(key.slice(prefix.length)).toMatch(/^[0-9A-Za-z]{32}$/);
      expect(parseApiKey(key)).toEqual({ kind, mode });
    }
  });

  it('never repeats a key across many draws', () => {
    const keys = new Set<string>();
    const draws = 5000;
    for (let i = 0; i < draws; i += 1) keys.add(generateApiKey('secret', 'live'));
    expect(keys.size).toBe(draws);
  });

  it('never repeats the body across kinds and modes either', () => {
    const bodies = new Set<string>();
    for (const [kind, mode, prefix] of COMBINATIONS) {
      for (let i = 0; i < 500; i += 1) bodies.add(generateApiKey(kind, mode).slice(prefix.length));
    }
    expect(bodies.size).toBe(COMBINATIONS.length * 500);
  });

  it('draws from the whole base62 alphabet', () => {
    // 2000 keys × 32 characters = 64 000 draws; each of the 62 symbols is expected ~1000 times,
    // so missing one by chance is astronomically unlikely, while a skewed alphabet is caught.
    const seen = new Map<string, number>();
    for (let i = 0; i < 2000; i += 1) {
      for (const character of generateApiKey('publishable', 'test').slice('pk_test_'.length)) {
        seen.set(character, (seen.get(character) ?? 0) + 1);
      }
    }
    expect([...seen.keys()].sort().join('')).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    for (const count of seen.values()) {
      expect(count).toBeGreaterThan(700);
      expect(count).toBeLessThan(1300);
    }
  });
});

describe('hashApiKey', () => {
  it('is the SHA-256 of the key as lower-case hex', () => {
    // Known vectors: sha256("") and sha256("abc").
    expect(hashApiKey('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the key as UTF-8', () => {
    expect(hashApiKey('ä')).toBe(createHash('sha256').update(Buffer.from([0xc3, 0xa4])).digest('hex'));
  });

  it('returns 64 lower-case hex characters for a generated key', () => {
    const key = generateApiKey('secret', 'live');
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
  });

  it('is deterministic', () => {
    const key = generateApiKey('secret', 'test');
    const first = hashApiKey(key);
    for (let i = 0; i < 5; i += 1) expect(hashApiKey(key)).toBe(first);
    // Stable across processes and releases: a fixed key has a fixed, known hash.
    expect(hashApiKey(`sk_live_${'0'.repeat(32)}`)).toBe('56fb575e1d5a51d0214e41b6775ced81e47fdd570731e41ce3831447b0ec28ff');
  });

  it('distinguishes keys that differ in one character', () => {
    const key = 'sk_live_' + 'a'.repeat(32);
    const other = 'sk_live_' + 'a'.repeat(31) + 'b';
    expect(hashApiKey(key)).not.toBe(hashApiKey(other));
    expect(hashApiKey(key)).not.toBe(hashApiKey(key.replace('sk_', 'pk_')));
  });

  it('does not contain the key', () => {
    const key = generateApiKey('secret', 'live');
    expect(hashApiKey(key)).not.toContain(key.slice(8, 16));
  });
});
