import pino from 'pino';
import { hashApiKey } from '../../../src/identity/apiKeySecrets';
import { AuthCache, IDENTITY_CHANGED_CHANNEL, IdentityChangeListener, createAuthCache, invalidateOnIdentityChanges } from '../../../src/identity/authCache';
import { createIdentityService } from '../../../src/identity/service';
import { TestApi, TestContext, createTestContext, eventually, seedOrganization, startTestApi } from '../../support/context';

jest.setTimeout(120_000);

/**
 * The API's cache of resolved keys, on the real Postgres: the identity tables' triggers announce
 * every change, and the replica forgets what it knew. The ttl is an hour here, so only the
 * notification can explain a cache that empties.
 */
let ctx: TestContext;
let cache: AuthCache;
let listener: IdentityChangeListener;
let api: TestApi;

beforeAll(async () => {
  ctx = await createTestContext();
  cache = createAuthCache(3_600_000);
  listener = await invalidateOnIdentityChanges(ctx.deps.config.DATABASE_URL, cache, pino({ level: 'silent' }), 100);
  // A replica of its own: the same engines, a caching identity service.
  api = await startTestApi({ ...ctx.deps, identity: createIdentityService(ctx.deps.db, ctx.deps.relaxedDb, { authCache: cache }) });
});

afterAll(async () => {
  await api.close();
  await listener.close();
  await ctx.close();
});

it('reuses a resolved key, and answers 401 soon after the key is revoked by another process', async () => {
  const org = await seedOrganization(ctx.deps);
  expect((await api.request('GET', '/api/v1/me', { key: org.secretKey })).status).toBe(200);
  expect(cache.lookup(hashApiKey(org.secretKey), Date.now())?.auth.keyId).toBe(org.secretKeyId);
  expect((await api.request('GET', '/api/v1/me', { key: org.secretKey })).status).toBe(200);

  // Revoked through a service without the cache, as the CLI or another replica would.
  await ctx.deps.identity.revokeApiKey(org.secretKeyId);
  const response = await eventually(async () => {
    const attempt = await api.request('GET', '/api/v1/me', { key: org.secretKey });
    return attempt.status === 401 ? attempt : null;
  }, 5000, 50);
  expect(response.body.error.code).toBe('UNAUTHENTICATED');
});

it('forgets the keys of an organisation whose plan or flags change', async () => {
  const org = await seedOrganization(ctx.deps, { flags: [] });
  expect((await api.request('GET', '/api/v1/listings', { key: org.secretKey })).status).toBe(404);
  expect(cache.lookup(hashApiKey(org.secretKey), Date.now())).toBeDefined();

  await ctx.deps.db('organizations').where({ id: org.organization.id }).update({ feature_flags: { LISTINGS_WRITE_API_ENABLED: true } });
  await eventually(async () => (await api.request('GET', '/api/v1/listings', { key: org.secretKey })).status === 200, 5000, 50);
});

it('is not cleared by the last-used bookkeeping, which changes on use and not in meaning', async () => {
  const org = await seedOrganization(ctx.deps);
  expect((await api.request('GET', '/api/v1/me', { key: org.secretKey })).status).toBe(200);
  const generation = cache.generation;
  await ctx.deps.db('api_keys').where({ id: org.secretKeyId }).update({ last_used_at: new Date(0) });
  // A notification would have arrived well within this time (the tests above see one in ms).
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(cache.generation).toBe(generation);
});

it('keeps nothing while its listener is disconnected, and resumes once it reconnects', async () => {
  const org = await seedOrganization(ctx.deps);
  expect((await api.request('GET', '/api/v1/me', { key: org.secretKey })).status).toBe(200);
  expect(cache.size).toBeGreaterThan(0);

  // Cut the listener's connection from the server side.
  await ctx.deps.db.raw('select pg_terminate_backend(pid) from pg_stat_activity where query = ? and datname = current_database()', [`listen ${IDENTITY_CHANGED_CHANNEL}`]);
  await eventually(async () => cache.size === 0, 5000, 20);
  // Until it reconnects, requests still authenticate, from the database.
  expect((await api.request('GET', '/api/v1/me', { key: org.secretKey })).status).toBe(200);

  await eventually(async () => {
    await api.request('GET', '/api/v1/me', { key: org.secretKey });
    return cache.size > 0;
  }, 10_000, 100);
});
