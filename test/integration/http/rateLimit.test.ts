import { createMetricsRegistry } from '../../../src/observability/metrics';
import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';

jest.setTimeout(120_000);

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

it('allows 1000 requests per hour per key, then answers 429 RATE_LIMITED with Retry-After', async () => {
  // The window is the clock hour: never straddle its end, or the count would restart mid-test.
  const msLeftInHour = 3_600_000 - (Date.now() % 3_600_000);
  if (msLeftInHour < 60_000) await new Promise((resolve) => setTimeout(resolve, msLeftInHour + 1000));
  const org = await seedOrganization(ctx.deps);
  const other = await seedOrganization(ctx.deps);
  const statuses: number[] = [];
  // Real requests through the real limiter, 20 at a time.
  for (let batch = 0; batch < 50; batch += 1) {
    const responses = await Promise.all(Array.from({ length: 20 }, () => api.request('GET', '/api/v1/me', { key: org.secretKey })));
    statuses.push(...responses.map((response) => response.status));
  }
  expect(statuses.filter((status) => status === 200)).toHaveLength(1000);

  const limited = await api.request('GET', '/api/v1/me', { key: org.secretKey });
  expect(limited.status).toBe(429);
  expect(limited.body.error.code).toBe('RATE_LIMITED');
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
  expect(limited.headers.get('ratelimit-remaining')).toBe('0');

  // The budget is per key: another key is unaffected.
  expect((await api.request('GET', '/api/v1/me', { key: other.secretKey })).status).toBe(200);
});

it('shares one budget between replicas, which claim it in leases', async () => {
  const limited = await createTestContext({ RATE_LIMIT_PER_HOUR: '40' });
  // Two apps: two replicas, each with its own leases (and metrics), on one database.
  const replicas = [await startTestApi(limited.deps), await startTestApi({ ...limited.deps, metrics: createMetricsRegistry('api') })];
  try {
    const msLeftInHour = 3_600_000 - (Date.now() % 3_600_000);
    if (msLeftInHour < 30_000) await new Promise((resolve) => setTimeout(resolve, msLeftInHour + 1000));
    const org = await seedOrganization(limited.deps);
    const statuses: number[] = [];
    const remaining: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const response = await replicas[i % 2].request('GET', '/api/v1/me', { key: org.secretKey });
      statuses.push(response.status);
      remaining.push(Number(response.headers.get('ratelimit-remaining')));
    }
    expect(statuses.slice(0, 40).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(40).every((status) => status === 429)).toBe(true);
    // A replica does not see the other's claims until its own next one: what it reports left may
    // exceed what the key has left by at most the other's lease (leaseSize(40, 0) = 2).
    remaining.slice(0, 40).forEach((left, i) => expect(left).toBeLessThanOrEqual(40 - (i + 1) + 2));
    expect(remaining[39]).toBe(0);
    const [counter] = await limited.deps.db('rate_limit_counters').where({ bucket: `key:${org.secretKeyId}` });
    expect(counter.count).toBeGreaterThanOrEqual(50);
  } finally {
    for (const replica of replicas) await replica.close();
    await limited.close();
  }
});
