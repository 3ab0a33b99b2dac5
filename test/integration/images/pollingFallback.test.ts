import { randomUUID } from 'node:crypto';
import { eventually, seedOrganization } from '../../support/context';
import { makeJpeg, putUpload } from '../../support/images';
import { completeListing } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * Any S3, without bucket notifications: a bucket of its own with notifications off, so the only
 * way the ingest learns of the upload is by looking (statObject) every IMAGE_UPLOAD_POLL_INTERVAL.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    S3_BUCKET_IMAGES: `immoflow-polling-${randomUUID().slice(0, 8)}`,
    S3_NOTIFICATION_ARN: 'off',
    IMAGE_UPLOAD_POLL_INTERVAL: '1s',
  });
});

afterAll(() => stack.close());

it('finds the upload by polling and ingests it', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  const listing = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
  const jpeg = await makeJpeg(500, 400);
  const ticket = await api.request('POST', `/api/v1/listings/${listing.body.data.id}/images`, {
    key: org.secretKey,
    body: { filename: 'kitchen.jpg', content_type: 'image/jpeg', size: jpeg.length },
  });
  expect(ticket.status).toBe(201);
  expect(ticket.body.data.upload_url).toContain(`/${ctx.deps.config.S3_BUCKET_IMAGES}/uploads/`);
  expect((await putUpload(ticket.body.data.upload_url, jpeg, 'image/jpeg')).status).toBe(200);
  const image = await eventually(async () => {
    const response = await api.request('GET', `/api/v1/listings/${listing.body.data.id}/images/${ticket.body.data.image_id}`, { key: org.secretKey });
    return response.body.data.state === 'ready' ? response.body.data : undefined;
  }, 20_000);
  expect(image).toMatchObject({ width: 500, height: 400 });
  expect((await fetch(image.variants[0].url)).status).toBe(200);
});
