import { workflowIds } from '../../../src/domain/workflowIds';
import { TestApi, TestContext, eventually, seedOrganization } from '../../support/context';
import { FakeFileServer, serve, startFakeFileServer } from '../../support/fileServer';
import { makePdf } from '../../support/images';
import { completeListing } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * The per-host limit holds across listings in a worker: with ATTACHMENT_CONCURRENCY_PER_HOST=1, a
 * slow host serves one fetch at a time whichever listing asks, and a listing on another host is
 * fetched meanwhile instead of waiting behind the slow host's backlog.
 */
let stack: TestStack;
let ctx: TestContext;
let api: TestApi;
let slowHost: FakeFileServer;
let fastHost: FakeFileServer;
let org: Awaited<ReturnType<typeof seedOrganization>>;

let inFlight = 0;
let peak = 0;
let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => (release = resolve));

beforeAll(async () => {
  [slowHost, fastHost] = await Promise.all([startFakeFileServer(), startFakeFileServer()]);
  stack = await startTestStack({
    ATTACHMENT_ALLOW_TARGETS: `${slowHost.hostPort},${fastHost.hostPort}`,
    ATTACHMENT_CONCURRENCY_PER_HOST: '1',
  });
  ({ ctx, api } = stack);
  org = await seedOrganization(ctx.deps);
});

afterAll(async () => {
  release();
  await stack.close();
  await Promise.all([slowHost.close(), fastHost.close()]);
});

async function createListing(url: string) {
  const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments: [{ url, kind: 'document' }] }) });
  expect(response.status).toBe(201);
  return response.body.data.id as string;
}

const stateOf = async (listingId: string) => (await api.request('GET', `/api/v1/listings/${listingId}/attachments`, { key: org.secretKey })).body.data[0].state;

it('lets one fetch per host run in the worker, and other hosts pass the slow one', async () => {
  const pdf = makePdf();
  const slowUrls = ['/a.pdf', '/b.pdf', '/c.pdf'].map((path) =>
    slowHost.route(path, async (req, res, socket) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await held;
      inFlight -= 1;
      serve(pdf, 'application/pdf')(req, res, socket);
    }),
  );
  const slowListings: string[] = [];
  for (const url of slowUrls) slowListings.push(await createListing(url));
  await eventually(async () => inFlight === 1);

  // Another host is not held up by the slow one's queue.
  const fastListing = await createListing(fastHost.route('/quick.pdf', serve(pdf, 'application/pdf')));
  await eventually(async () => (await stateOf(fastListing)) === 'ready', 30_000);
  // Meanwhile the slow host has still seen one request, and the others wait as `pending`.
  expect(peak).toBe(1);
  expect([...slowHost.hits.values()].reduce((sum, hits) => sum + hits, 0)).toBe(1);
  expect((await Promise.all(slowListings.map(stateOf))).sort()).toEqual(['fetching', 'pending', 'pending']);
  // The waiting runs gave their activity slots back and sleep: the progress Query says pending.
  const client = await ctx.deps.temporal.get();
  const progressOf = async (listingId: string) => ((await client.workflow.getHandle(workflowIds.propertyProcessing(listingId, 1)).query('progress')) as { state: string }[])[0].state;
  await eventually(async () => (await Promise.all(slowListings.map(progressOf))).includes('pending'), 20_000);

  release();
  for (const listingId of slowListings) await eventually(async () => (await stateOf(listingId)) === 'ready', 60_000);
  expect(peak).toBe(1);
  expect(slowUrls.map((url) => slowHost.hits.get(new URL(url).pathname))).toEqual([1, 1, 1]);
});
