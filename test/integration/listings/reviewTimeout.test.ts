import { TestApi, TestContext, eventually, seedOrganization } from '../../support/context';
import { completeListing, eventsOf } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

/** A needs_review listing nobody decides on gets the configured timeout outcome. */
let stack: TestStack;
let ctx: TestContext;
let api: TestApi;

beforeAll(async () => {
  stack = await startTestStack({ MODERATION_REVIEW_TIMEOUT: '2s', MODERATION_REVIEW_TIMEOUT_OUTCOME: 'rejected' });
  ({ ctx, api } = stack);
});

afterAll(() => stack.close());

it('rejects after the review timeout and says why', async () => {
  const org = await seedOrganization(ctx.deps);
  const body = completeListing({ status: 'active', description: 'Mail us: vermietung@example.de' });
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body });
  const id = created.body.data.id;
  await eventually(async () => (await ctx.deps.db('listings').where({ id }).first()).moderation_state === 'needs_review');
  const listing = await eventually(async () => {
    const row = (await api.request('GET', `/api/v1/listings/${id}`, { key: org.secretKey })).body.data;
    return row.moderation.state === 'rejected' ? row : undefined;
  });
  expect(listing.publication.state).toBe('rejected');
  expect(listing.moderation.reasons.map((reason: { code: string }) => reason.code)).toEqual(['CONTACT_DATA_IN_TEXT', 'REVIEW_TIMEOUT']);
  const moderated = (await eventsOf(api, org.secretKey, id)).filter((event) => event.eventName === 'listing.moderated').at(-1);
  expect(moderated?.eventPayload).toMatchObject({ outcome: 'rejected', reasons: expect.arrayContaining([expect.objectContaining({ code: 'REVIEW_TIMEOUT', message: expect.stringContaining('review timeout') })]) });
});
