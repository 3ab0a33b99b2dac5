import { workflowIds } from '../../../src/domain/workflowIds';
import { TestApi, TestContext, createTestContext, eventually, seedOrganization, startTestApi } from '../../support/context';
import { makeJpeg, putUpload } from '../../support/images';
import { completeListing } from '../../support/listings';
import { TestWorkers, startTestWorkers } from '../../support/workers';

/**
 * Nothing is lost while no worker runs: MinIO's notification becomes a signal in the workflow's
 * history, and the ingest completes once a worker is back. Polling is effectively off, so only
 * that recorded signal can wake it.
 */
let ctx: TestContext;
let api: TestApi;
let workers: TestWorkers | undefined;

beforeAll(async () => {
  ctx = await createTestContext({ IMAGE_UPLOAD_POLL_INTERVAL: '10m' });
  api = await startTestApi(ctx.deps);
});

afterAll(async () => {
  await workers?.stop();
  await api.close();
  await ctx.close();
});

it('ingests an upload that arrived while every worker was down', async () => {
  workers = await startTestWorkers(ctx.deps);
  const org = await seedOrganization(ctx.deps);
  const listing = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
  const jpeg = await makeJpeg(640, 480);
  const ticket = await api.request('POST', `/api/v1/listings/${listing.body.data.id}/images`, {
    key: org.secretKey,
    body: { filename: 'hall.jpg', content_type: 'image/jpeg', size: jpeg.length },
  });
  const client = await ctx.deps.temporal.get();
  const handle = client.workflow.getHandle(workflowIds.imageIngest(ticket.body.data.image_id));
  // The ingest has started and looked once (a completed activity): it now waits for a wake-up.
  await eventually(async () => {
    const history = await handle.fetchHistory();
    return history.events?.some((event) => event.activityTaskCompletedEventAttributes);
  });

  await workers.stop();
  workers = undefined;
  expect((await putUpload(ticket.body.data.upload_url, jpeg, 'image/jpeg')).status).toBe(200);
  await eventually(async () => {
    const history = await handle.fetchHistory();
    return history.events?.some((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'uploaded');
  });
  const waiting = await api.request('GET', `/api/v1/listings/${listing.body.data.id}/images/${ticket.body.data.image_id}`, { key: org.secretKey });
  expect(waiting.body.data.state).toBe('awaiting_upload');

  workers = await startTestWorkers(ctx.deps);
  const image = await eventually(async () => {
    const response = await api.request('GET', `/api/v1/listings/${listing.body.data.id}/images/${ticket.body.data.image_id}`, { key: org.secretKey });
    return response.body.data.state === 'ready' ? response.body.data : undefined;
  });
  expect(image.variants).toHaveLength(2);
});
