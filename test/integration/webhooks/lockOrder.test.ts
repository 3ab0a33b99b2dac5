import { TestApi, TestContext, createTestContext, seedOrganization, startTestApi } from '../../support/context';
import { completeListing } from '../../support/listings';

/**
 * An activation locks its organisation (the active-listing cap) and then fans its event out to
 * the webhooks; a test delivery locked its webhook and then inserted a row whose foreign key
 * needs the organisation. With FOR UPDATE on both, the two deadlocked and one answered 500
 * (found by issue 17's hostile-input scenario); with FOR NO KEY UPDATE neither blocks the other's
 * foreign-key check.
 */
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

it('runs activations and test deliveries of one organisation side by side without a 500', async () => {
  const org = await seedOrganization(ctx.deps, { plan: 'pro' });
  const webhooks: string[] = [];
  for (let index = 0; index < 3; index += 1) {
    const created = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: 'https://93.184.215.14/hook', events: ['listing.*'] } });
    expect(created.status).toBe(201);
    webhooks.push(created.body.data.id);
  }
  const statuses: number[] = [];
  for (let round = 0; round < 8; round += 1) {
    const calls = Array.from({ length: 12 }, (_, index) =>
      index % 2 === 0
        ? api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ external_ref: `LOCK-${round}-${index}`, status: 'active' }) })
        : api.request('POST', `/api/v1/webhooks/${webhooks[index % webhooks.length]}/test`, { key: org.secretKey }),
    );
    statuses.push(...(await Promise.all(calls)).map((response) => response.status));
  }
  expect(statuses.filter((status) => status >= 500)).toEqual([]);
});
