import { Client as PgClient } from 'pg';
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

/**
 * Other test files change identity rows in the same database at the same time, and each change
 * empties this cache too; so a key is asked for until a quiet moment lets it stay cached.
 */
async function requestUntilCached(path: string, key: string, expectedStatus: number) {
  return eventually(async () => {
    expect((await api.request('GET', path, { key })).status).toBe(expectedStatus);
    return cache.lookup(hashApiKey(key), Date.now());
  }, 10_000, 20);
}

it('reuses a resolved key, and answers 401 soon after the key is revoked by another process', async () => {
  const org = await seedOrganization(ctx.deps);
  expect((await requestUntilCached('/api/v1/me', org.secretKey, 200)).auth.keyId).toBe(org.secretKeyId);
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
  await requestUntilCached('/api/v1/listings', org.secretKey, 404);

  await ctx.deps.db('organizations').where({ id: org.organization.id }).update({ feature_flags: { LISTINGS_WRITE_API_ENABLED: true } });
  await eventually(async () => (await api.request('GET', '/api/v1/listings', { key: org.secretKey })).status === 200, 5000, 50);
});

it('is not cleared by the last-used bookkeeping, which changes on use and not in meaning', async () => {
  const org = await seedOrganization(ctx.deps);
  expect((await api.request('GET', '/api/v1/me', { key: org.secretKey })).status).toBe(200);
  // Other test files change identity rows in the same database at the same time, so the cache's
  // generation cannot tell whose change it heard; the notifying backend's pid can.
  const observer = new PgClient({ connectionString: ctx.deps.config.DATABASE_URL });
  const writer = new PgClient({ connectionString: ctx.deps.config.DATABASE_URL });
  await Promise.all([observer.connect(), writer.connect()]);
  try {
    const heard: number[] = [];
    observer.on('notification', (message) => heard.push(message.processId));
    await observer.query(`listen ${IDENTITY_CHANGED_CHANNEL}`);
    const { rows } = await writer.query('select pg_backend_pid() as pid');
    await writer.query('update api_keys set last_used_at = $1 where id = $2', [new Date(0), org.secretKeyId]);
    // The control: a change in meaning from the same backend is heard.
    await writer.query('update api_keys set scopes = scopes where id = $1', [org.secretKeyId]);
    await eventually(async () => heard.includes(rows[0].pid), 5000, 20);
    expect(heard.filter((pid) => pid === rows[0].pid)).toHaveLength(1);
  } finally {
    await Promise.all([observer.end(), writer.end()]);
  }
});

it('keeps nothing while its listener is disconnected, and resumes once it reconnects', async () => {
  const org = await seedOrganization(ctx.deps);
  // Other test files' identity changes empty the cache too: ask until the key stays cached.
  await requestUntilCached('/api/v1/me', org.secretKey, 200);
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
