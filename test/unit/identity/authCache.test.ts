import { createAuthCache } from '../../../src/identity/authCache';
import type { AuthContext } from '../../../src/identity/authContext';

const auth = (keyId: string): AuthContext => ({
  keyId,
  orgId: 'org-1',
  kind: 'secret',
  mode: 'test',
  scopes: ['listings:write'],
  createdBy: null,
  createdByEmail: null,
  org: { id: 'org-1', name: 'Org', plan: 'pro', activeListingCapOverride: null, featureFlags: {}, developerContactEmail: null },
});

function enabledCache(ttlMs = 10_000, maxEntries?: number) {
  const cache = createAuthCache(ttlMs, maxEntries);
  cache.clear(true);
  return cache;
}

it('keeps nothing until it is enabled (its change listener is connected)', () => {
  const cache = createAuthCache(10_000);
  cache.remember('h1', auth('k1'), 0, 0, cache.generation);
  expect(cache.lookup('h1', 1)).toBeUndefined();
  cache.clear(true);
  cache.remember('h1', auth('k1'), 0, 0, cache.generation);
  expect(cache.lookup('h1', 1)?.auth.keyId).toBe('k1');
});

it('forgets an entry once it is ttl old', () => {
  const cache = enabledCache(10_000);
  cache.remember('h1', auth('k1'), 1000, 0, cache.generation);
  expect(cache.lookup('h1', 10_999)).toBeDefined();
  expect(cache.lookup('h1', 11_000)).toBeUndefined();
});

it('drops a lookup that started before a change was announced', () => {
  const cache = enabledCache();
  const before = cache.generation;
  // A key row read, then a change announced while the read was on its way back.
  cache.clear();
  cache.remember('h1', auth('k1'), 0, 0, before);
  expect(cache.lookup('h1', 1)).toBeUndefined();
  expect(cache.size).toBe(0);
});

it('caches nothing with a ttl of 0', () => {
  const cache = enabledCache(0);
  cache.remember('h1', auth('k1'), 0, 0, cache.generation);
  expect(cache.size).toBe(0);
});

it('evicts the oldest entry when full', () => {
  const cache = enabledCache(10_000, 2);
  cache.remember('h1', auth('k1'), 0, 0, cache.generation);
  cache.remember('h2', auth('k2'), 0, 0, cache.generation);
  cache.remember('h3', auth('k3'), 0, 0, cache.generation);
  expect(cache.lookup('h1', 1)).toBeUndefined();
  expect(cache.lookup('h2', 1)?.auth.keyId).toBe('k2');
  expect(cache.lookup('h3', 1)?.auth.keyId).toBe('k3');
});

it('disabling empties it and keeps it empty', () => {
  const cache = enabledCache();
  cache.remember('h1', auth('k1'), 0, 0, cache.generation);
  cache.clear(false);
  expect(cache.size).toBe(0);
  cache.remember('h1', auth('k1'), 0, 0, cache.generation);
  expect(cache.size).toBe(0);
});
