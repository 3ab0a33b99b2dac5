import sharp from 'sharp';
import { DEV_STORAGE_NOTIFICATION_TOKEN } from '../../../src/config';
import { MAX_IMAGE_BYTES, imageObjectKeys } from '../../../src/domain/images';
import { createMetricsRegistry } from '../../../src/observability/metrics';
import { TestApi, TestContext, eventually, seedOrganization, startTestApi } from '../../support/context';
import { makeJpeg, makePdf, putUpload } from '../../support/images';
import { completeListing, eventsOf } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * Listing images on the real MinIO and Temporal: presigned PUT → bucket notification → the
 * imageIngest workflow → variants in MinIO and `listing.image.uploaded`.
 */
let stack: TestStack;
let ctx: TestContext;
let api: TestApi;
let org: Awaited<ReturnType<typeof seedOrganization>>;
let other: Awaited<ReturnType<typeof seedOrganization>>;

beforeAll(async () => {
  // Polling is effectively off: only MinIO's notification (or POST …/complete) can wake an ingest.
  stack = await startTestStack({ IMAGE_UPLOAD_POLL_INTERVAL: '10m' });
  ({ ctx, api } = stack);
  [org, other] = await Promise.all([seedOrganization(ctx.deps), seedOrganization(ctx.deps)]);
});

afterAll(() => stack.close());

async function createListing(): Promise<string> {
  const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing() });
  expect(response.status).toBe(201);
  return response.body.data.id;
}

async function requestUpload(listingId: string, body: Record<string, unknown>, client: TestApi = api) {
  return client.request('POST', `/api/v1/listings/${listingId}/images`, { key: org.secretKey, body });
}

const imageOf = async (listingId: string, imageId: string) =>
  (await api.request('GET', `/api/v1/listings/${listingId}/images/${imageId}`, { key: org.secretKey })).body.data;

const untilSettled = (listingId: string, imageId: string, timeoutMs = 30_000) =>
  eventually(async () => {
    const image = await imageOf(listingId, imageId);
    return image.state === 'ready' || image.state === 'failed' ? image : undefined;
  }, timeoutMs);

async function objectExists(key: string): Promise<boolean> {
  try {
    await ctx.deps.storage.statObject(ctx.deps.config.S3_BUCKET_IMAGES, key);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'NotFound') return false;
    throw error;
  }
}

async function uploadJpeg(listingId: string, jpeg: Buffer, sortOrder?: number) {
  const ticket = await requestUpload(listingId, { filename: 'living-room.jpg', content_type: 'image/jpeg', size: jpeg.length, sort_order: sortOrder });
  expect(ticket.status).toBe(201);
  expect((await putUpload(ticket.body.data.upload_url, jpeg, 'image/jpeg')).status).toBe(200);
  return ticket.body.data as { image_id: string; upload_url: string; upload_token: string; expires_at: string };
}

describe('a JPEG PUT to the presigned URL', () => {
  it('is ingested: listing.image.uploaded, working variant URLs, and the gallery on the listing', async () => {
    const listingId = await createListing();
    const jpeg = await makeJpeg(1200, 800, { texture: true });
    const before = Date.now();
    const ticket = await uploadJpeg(listingId, jpeg, 0);
    expect(ticket.image_id).toMatch(/^img_[0-9a-f]{24}$/);
    expect(ticket.upload_url.startsWith(`${ctx.deps.config.S3_ENDPOINT}/${ctx.deps.config.S3_BUCKET_IMAGES}/uploads/`)).toBe(true);
    expect(ticket.upload_token).toMatch(/^iut_/);
    const expiresIn = Date.parse(ticket.expires_at) - before;
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000 + 1000);

    // No /complete call and polling every 10 min: the MinIO bucket notification woke the workflow.
    const image = await untilSettled(listingId, ticket.image_id);
    expect(image).toMatchObject({ state: 'ready', failure: null, width: 1200, height: 800, size: jpeg.length, content_type: 'image/jpeg' });
    expect(image.variants.map((variant: { name: string; width: number; height: number }) => [variant.name, variant.width, variant.height])).toEqual([
      ['thumbnail', 400, 267],
      // Never enlarged: the original is narrower than 1600 px.
      ['large', 1200, 800],
    ]);
    for (const variant of image.variants) {
      const response = await fetch(variant.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/webp');
      const metadata = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', variant.width, variant.height]);
    }

    const events = await eventsOf(api, org.secretKey, listingId);
    const uploaded = events.filter((event) => event.eventName === 'listing.image.uploaded');
    expect(uploaded).toHaveLength(1);
    const externalRef = (await api.request('GET', `/api/v1/listings/${listingId}`, { key: org.secretKey })).body.data.external_ref;
    expect(uploaded[0].eventPayload).toMatchObject({ listingId, externalRef, imageId: ticket.image_id, image: { width: 1200, height: 800 } });

    const listing = (await api.request('GET', `/api/v1/listings/${listingId}`, { key: org.secretKey })).body.data;
    expect(listing.images.map((entry: { id: string; state: string }) => [entry.id, entry.state])).toEqual([[ticket.image_id, 'ready']]);
  });

  it('keeps the original private while the variants are public', async () => {
    const listingId = await createListing();
    const ticket = await uploadJpeg(listingId, await makeJpeg(640, 480));
    await untilSettled(listingId, ticket.image_id);
    const original = ticket.upload_url.split('?')[0];
    expect((await fetch(original)).status).toBe(403);
  });
});

describe('S3_PUBLIC_ENDPOINT', () => {
  it('is the host upload and variant URLs name, and the one the signature covers', async () => {
    const publicEndpoint = ctx.deps.config.S3_ENDPOINT.replace('127.0.0.1', 'localhost');
    const publicApi = await startTestApi({ ...ctx.deps, metrics: createMetricsRegistry('api'), config: { ...ctx.deps.config, S3_PUBLIC_ENDPOINT: publicEndpoint } });
    try {
      const listingId = await createListing();
      const jpeg = await makeJpeg(400, 300);
      const ticket = await requestUpload(listingId, { filename: 'a.jpg', content_type: 'image/jpeg', size: jpeg.length }, publicApi);
      const uploadUrl: string = ticket.body.data.upload_url;
      expect(uploadUrl.startsWith(`${publicEndpoint}/`)).toBe(true);
      // The same URL on another host name is refused: the signature covers the public host.
      const elsewhere = await putUpload(uploadUrl.replace(publicEndpoint, ctx.deps.config.S3_ENDPOINT), jpeg, 'image/jpeg');
      expect(elsewhere.status).toBe(403);
      expect(await elsewhere.text()).toContain('SignatureDoesNotMatch');
      expect((await putUpload(uploadUrl, jpeg, 'image/jpeg')).status).toBe(200);
      await untilSettled(listingId, ticket.body.data.image_id);
      const listing = (await publicApi.request('GET', `/api/v1/listings/${listingId}`, { key: org.secretKey })).body.data;
      expect(listing.images[0].variants.every((variant: { url: string }) => variant.url.startsWith(`${publicEndpoint}/`))).toBe(true);
    } finally {
      await publicApi.close();
    }
  });
});

describe('a bad upload ends failed, with its object deleted and no event', () => {
  it('a PDF declared as image/jpeg: TYPE_MISMATCH', async () => {
    const listingId = await createListing();
    const pdf = makePdf();
    const ticket = await requestUpload(listingId, { filename: 'expose.jpg', content_type: 'image/jpeg', size: pdf.length });
    expect((await putUpload(ticket.body.data.upload_url, pdf, 'image/jpeg')).status).toBe(200);
    const image = await untilSettled(listingId, ticket.body.data.image_id);
    expect(image.state).toBe('failed');
    expect(image.failure).toEqual({ code: 'TYPE_MISMATCH', message: 'The file was declared as image/jpeg but its content is application/pdf.' });
    expect(image.variants).toEqual([]);
    expect(await objectExists(imageObjectKeys.original(org.organization.id, listingId, image.id))).toBe(false);
    const events = await eventsOf(api, org.secretKey, listingId);
    expect(events.map((event) => event.eventName)).not.toContain('listing.image.uploaded');
  });

  it('a 6 MB upload: FILE_TOO_LARGE (the presigned PUT cannot bound the size; the ingest does)', async () => {
    const listingId = await createListing();
    const jpeg = await makeJpeg(64, 64);
    const sixMegabytes = Buffer.concat([jpeg, Buffer.alloc(6 * 1024 * 1024 - jpeg.length, 0x20)]);
    const ticket = await requestUpload(listingId, { filename: 'huge.jpg', content_type: 'image/jpeg', size: 1_000_000 });
    expect((await putUpload(ticket.body.data.upload_url, sixMegabytes, 'image/jpeg')).status).toBe(200);
    const image = await untilSettled(listingId, ticket.body.data.image_id);
    expect(image.failure).toEqual({ code: 'FILE_TOO_LARGE', message: `The uploaded file has ${6 * 1024 * 1024} bytes; the limit is ${MAX_IMAGE_BYTES} bytes.` });
    expect(await objectExists(imageObjectKeys.original(org.organization.id, listingId, image.id))).toBe(false);
  });

  it('a truncated JPEG (right magic bytes, no image): UNDECODABLE', async () => {
    const listingId = await createListing();
    const truncated = (await makeJpeg(800, 600, { texture: true })).subarray(0, 2000);
    const ticket = await requestUpload(listingId, { filename: 'cut.jpg', content_type: 'image/jpeg', size: truncated.length });
    await putUpload(ticket.body.data.upload_url, truncated, 'image/jpeg');
    const image = await untilSettled(listingId, ticket.body.data.image_id);
    expect(image.failure.code).toBe('UNDECODABLE');
  });

  it('a PUT after expiry is rejected by MinIO, and the image ends UPLOAD_EXPIRED', async () => {
    const shortLived = await startTestApi({ ...ctx.deps, metrics: createMetricsRegistry('api'), config: { ...ctx.deps.config, IMAGE_UPLOAD_URL_TTL: 1000 } });
    try {
      const listingId = await createListing();
      const jpeg = await makeJpeg(320, 240);
      const ticket = await requestUpload(listingId, { filename: 'late.jpg', content_type: 'image/jpeg', size: jpeg.length }, shortLived);
      expect(ticket.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const late = await putUpload(ticket.body.data.upload_url, jpeg, 'image/jpeg');
      expect(late.status).toBe(403);
      expect(await late.text()).toContain('expired');
      const image = await untilSettled(listingId, ticket.body.data.image_id);
      expect(image.failure.code).toBe('UPLOAD_EXPIRED');
    } finally {
      await shortLived.close();
    }
  });
});

describe('POST …/images validation', () => {
  it('names every bad field; the 5 MB limit is exactly 5,242,880 bytes', async () => {
    const listingId = await createListing();
    const bad = await requestUpload(listingId, { filename: '../etc/passwd', content_type: 'image/gif', size: MAX_IMAGE_BYTES + 1, extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    expect(bad.body.error.details.fields.map((field: { path: string }) => field.path).sort()).toEqual(['content_type', 'extra', 'filename', 'size']);
    expect(bad.body.error.details.fields.find((field: { path: string }) => field.path === 'size').message).toBe('must be at most 5242880 bytes (5 MB)');

    const atLimit = await requestUpload(listingId, { filename: 'max.webp', content_type: 'image/webp', size: MAX_IMAGE_BYTES });
    expect(atLimit.status).toBe(201);
  });

  it('sort_order defaults to after the last image and can be changed', async () => {
    const listingId = await createListing();
    const first = await requestUpload(listingId, { filename: 'a.png', content_type: 'image/png', size: 10 });
    const second = await requestUpload(listingId, { filename: 'b.png', content_type: 'image/png', size: 10 });
    const order = async () => (await api.request('GET', `/api/v1/listings/${listingId}`, { key: org.secretKey })).body.data.images.map((image: { filename: string; sort_order: number }) => [image.filename, image.sort_order]);
    expect(await order()).toEqual([['a.png', 0], ['b.png', 1]]);
    const moved = await api.request('PATCH', `/api/v1/listings/${listingId}/images/${first.body.data.image_id}`, { key: org.secretKey, body: { sort_order: 5 } });
    expect(moved.status).toBe(200);
    expect(moved.body.data.sort_order).toBe(5);
    expect(await order()).toEqual([['b.png', 1], ['a.png', 5]]);
    expect(second.status).toBe(201);
  });

  it('an Idempotency-Key replays the same ticket instead of reserving a second image', async () => {
    const listingId = await createListing();
    const headers = { 'Idempotency-Key': '2f1d6a52-8e4b-4c3a-9d1e-7b6a5c4d3e2f' };
    const body = { filename: 'a.jpg', content_type: 'image/jpeg', size: 100 };
    const first = await api.request('POST', `/api/v1/listings/${listingId}/images`, { key: org.secretKey, body, headers });
    const replay = await api.request('POST', `/api/v1/listings/${listingId}/images`, { key: org.secretKey, body, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    const listing = (await api.request('GET', `/api/v1/listings/${listingId}`, { key: org.secretKey })).body.data;
    expect(listing.images).toHaveLength(1);
  });
});

describe('POST …/images/{image_id}/complete', () => {
  it('takes the single-use token: 403 for another token, 202 once, 409 after', async () => {
    const listingId = await createListing();
    const jpeg = await makeJpeg(300, 200);
    const ticket = await uploadJpeg(listingId, jpeg);
    const path = `/api/v1/listings/${listingId}/images/${ticket.image_id}/complete`;
    const wrong = await api.request('POST', path, { key: org.secretKey, body: { upload_token: 'iut_not-the-token' } });
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'FORBIDDEN']);
    const accepted = await api.request('POST', path, { key: org.secretKey, body: { upload_token: ticket.upload_token } });
    expect(accepted.status).toBe(202);
    expect(accepted.body.data.id).toBe(ticket.image_id);
    const again = await api.request('POST', path, { key: org.secretKey, body: { upload_token: ticket.upload_token } });
    expect([again.status, again.body.error.code]).toEqual([409, 'CONFLICT']);
    expect((await untilSettled(listingId, ticket.image_id)).state).toBe('ready');
  });
});

describe('DELETE /api/v1/listings/{id}/images?image_id=…', () => {
  it('removes every object of the image and emits listing.image.deleted', async () => {
    const listingId = await createListing();
    const ticket = await uploadJpeg(listingId, await makeJpeg(900, 600));
    const image = await untilSettled(listingId, ticket.image_id);
    expect(image.state).toBe('ready');

    const missing = await api.request('DELETE', `/api/v1/listings/${listingId}/images`, { key: org.secretKey });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields[0].path).toBe('image_id');

    const deleted = await api.request('DELETE', `/api/v1/listings/${listingId}/images?image_id=${ticket.image_id}`, { key: org.secretKey });
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ image_id: ticket.image_id, deleted: true });
    expect((await api.request('GET', `/api/v1/listings/${listingId}/images/${ticket.image_id}`, { key: org.secretKey })).status).toBe(404);

    await eventually(async () => {
      const statuses = await Promise.all(image.variants.map(async (variant: { url: string }) => (await fetch(variant.url)).status));
      const originalGone = !(await objectExists(imageObjectKeys.original(org.organization.id, listingId, ticket.image_id)));
      return originalGone && statuses.every((status) => status === 404);
    });
    const events = await eventsOf(api, org.secretKey, listingId);
    expect(events.filter((event) => event.eventName === 'listing.image.deleted').map((event) => event.eventPayload.imageId)).toEqual([ticket.image_id]);
  });
});

describe('DELETE /api/v1/listings/{id}', () => {
  it('takes the images along: every object of every image is removed', async () => {
    const listingId = await createListing();
    const tickets = [await uploadJpeg(listingId, await makeJpeg(500, 300)), await uploadJpeg(listingId, await makeJpeg(300, 500))];
    const images = await Promise.all(tickets.map((ticket) => untilSettled(listingId, ticket.image_id)));
    expect(images.map((image) => image.state)).toEqual(['ready', 'ready']);
    expect((await api.request('DELETE', `/api/v1/listings/${listingId}`, { key: org.secretKey })).status).toBe(200);
    await eventually(async () => {
      const variantStatuses = await Promise.all(images.flatMap((image) => image.variants.map(async (variant: { url: string }) => (await fetch(variant.url)).status)));
      const originals = await Promise.all(tickets.map((ticket) => objectExists(imageObjectKeys.original(org.organization.id, listingId, ticket.image_id))));
      return variantStatuses.every((status) => status === 404) && originals.every((exists) => !exists);
    });
  });
});

describe('another organisation', () => {
  it("cannot see or touch this organisation's listing images: 404 everywhere", async () => {
    const listingId = await createListing();
    const ticket = await requestUpload(listingId, { filename: 'a.jpg', content_type: 'image/jpeg', size: 100 });
    const imageId = ticket.body.data.image_id;
    const base = `/api/v1/listings/${listingId}/images`;
    const attempts = await Promise.all([
      api.request('POST', base, { key: other.secretKey, body: { filename: 'a.jpg', content_type: 'image/jpeg', size: 100 } }),
      api.request('GET', `${base}/${imageId}`, { key: other.secretKey }),
      api.request('PATCH', `${base}/${imageId}`, { key: other.secretKey, body: { sort_order: 3 } }),
      api.request('POST', `${base}/${imageId}/complete`, { key: other.secretKey, body: { upload_token: ticket.body.data.upload_token } }),
      api.request('DELETE', `${base}?image_id=${imageId}`, { key: other.secretKey }),
    ]);
    expect(attempts.map((response) => [response.status, response.body.error.code])).toEqual(Array(5).fill([404, 'NOT_FOUND']));
    expect((await imageOf(listingId, imageId)).state).toBe('awaiting_upload');
  });

  it('needs a secret key with listings:write', async () => {
    const listingId = await createListing();
    const response = await api.request('POST', `/api/v1/listings/${listingId}/images`, {
      key: org.publishableKey,
      body: { filename: 'a.jpg', content_type: 'image/jpeg', size: 100 },
    });
    expect([response.status, response.body.error.code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
  });
});

describe('the storage-event endpoint', () => {
  it('refuses a caller without the bearer token and ignores records it does not own', async () => {
    const path = '/internal/storage/events';
    const anonymous = await api.request('POST', path, { body: { Records: [] } });
    expect(anonymous.status).toBe(401);
    const forged = await api.request('POST', path, { body: { Records: [] }, headers: { Authorization: 'Bearer wrong-token-wrong-token' } });
    expect(forged.status).toBe(401);
    const foreign = await api.request('POST', path, {
      body: { Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'elsewhere' }, object: { key: 'uploads/a/b/img_000000000000000000000000' } } }] },
      headers: { Authorization: `Bearer ${DEV_STORAGE_NOTIFICATION_TOKEN}` },
    });
    expect(foreign.status).toBe(204);
  });

  it('does not exist without STORAGE_NOTIFICATION_TOKEN (production without one relies on polling)', async () => {
    const tokenless = await startTestApi({ ...ctx.deps, metrics: createMetricsRegistry('api'), config: { ...ctx.deps.config, STORAGE_NOTIFICATION_TOKEN: undefined } });
    try {
      const response = await tokenless.request('POST', '/internal/storage/events', { body: { Records: [] }, headers: { Authorization: 'Bearer ' } });
      expect([response.status, response.body.error.code]).toEqual([404, 'NOT_FOUND']);
    } finally {
      await tokenless.close();
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents the image routes, the ListingImage schema and the recommended order', async () => {
    const doc = (await api.request('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths).filter((path) => path.includes('/images')).sort()).toEqual([
      '/api/v1/listings/{id}/images',
      '/api/v1/listings/{id}/images/{image_id}',
      '/api/v1/listings/{id}/images/{image_id}/complete',
    ]);
    expect(doc.components.schemas.ListingPublicDto.properties.images).toBeDefined();
    expect(doc.components.schemas.ListingImage.properties.variants).toBeDefined();
    expect(doc.components.schemas.CreateImageRequest.properties.size.maximum).toBe(MAX_IMAGE_BYTES);
    expect(doc.info.description).toContain('Recommended order: 1. create the listing (status draft), 2. upload its images, 3. set status to active');
    expect(doc.paths['/api/v1/listings/{id}/images'].post.description).toContain('Recommended order');
  });
});
