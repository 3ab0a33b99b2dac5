import { freePort } from '../../../scripts/stack/processes';
import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';

describe('with every engine up', () => {
  let ctx: TestContext;
  let api: TestApi;
  beforeAll(async () => {
    ctx = await createTestContext();
    api = await startTestApi(ctx.deps);
  });
  afterAll(async () => {
    await api.close();
    await ctx.close();
  });

  it('is live and ready, reporting each engine separately', async () => {
    expect((await api.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await api.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    for (const engine of ['postgres', 'temporal', 'minio']) expect(ready.body.checks[engine].ok).toBe(true);
  });
});

describe('with engines down', () => {
  it('reports Temporal and MinIO down in /readyz with 503', async () => {
    const deadTemporal = `127.0.0.1:${await freePort()}`;
    const deadS3 = `http://127.0.0.1:${await freePort()}`;
    const ctx = await createTestContext({ TEMPORAL_ADDRESS: deadTemporal, S3_ENDPOINT: deadS3, DEPENDENCY_TIMEOUT: '1s' });
    const api = await startTestApi(ctx.deps);
    try {
      const ready = await api.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.postgres.ok).toBe(true);
      expect(ready.body.checks.temporal).toMatchObject({ ok: false, error: expect.any(String) });
      expect(ready.body.checks.minio.ok).toBe(false);
    } finally {
      await api.close();
      await ctx.close();
    }
  });

  it('answers 503 DATABASE_UNAVAILABLE when Postgres is unreachable', async () => {
    const live = await createTestContext();
    const org = await seedOrganization(live.deps);
    await live.close();

    const deadDb = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
    const ctx = await createTestContext({ DATABASE_URL: deadDb, DEPENDENCY_TIMEOUT: '1s' });
    const api = await startTestApi(ctx.deps);
    try {
      const response = await api.request('GET', '/api/v1/me', { key: org.secretKey });
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('DATABASE_UNAVAILABLE');
      expect(response.headers.get('retry-after')).toBe('5');
      const ready = await api.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.postgres.ok).toBe(false);
    } finally {
      await api.close();
      await ctx.close();
    }
  });
});
