import { attachmentObjectKey } from '../../../src/domain/attachments';
import { imageObjectKeys } from '../../../src/domain/images';
import { workflowIds } from '../../../src/domain/workflowIds';
import { TestApi, TestContext, eventually, seedOrganization } from '../../support/context';
import { FakeFileServer, serve, startFakeFileServer, stream } from '../../support/fileServer';
import { FakeSubscriber, startFakeSubscriber } from '../../support/fakeSubscriber';
import { makeJpeg, makePdf } from '../../support/images';
import { completeListing, eventsOf } from '../../support/listings';
import { TestStack, startTestStack } from '../../support/workers';

/**
 * Attachments by URL on the real stack: the API owes a propertyProcessing run through the outbox,
 * the worker fetches each URL from a loopback file server through the SSRF guard into MinIO, and
 * property.processing_* reaches a webhook subscriber.
 */
let stack: TestStack;
let ctx: TestContext;
let api: TestApi;
let files: FakeFileServer;
let subscriber: FakeSubscriber;
let org: Awaited<ReturnType<typeof seedOrganization>>;
let other: Awaited<ReturnType<typeof seedOrganization>>;

const MB = 1024 * 1024;
/** A name that "resolves" to a private address: the fake DNS (a third party) the worker is given. */
const PRIVATE_NAME = 'files.crm-internal.example';

beforeAll(async () => {
  files = await startFakeFileServer();
  subscriber = await startFakeSubscriber();
  stack = await startTestStack(
    {
      ATTACHMENT_ALLOW_TARGETS: files.hostPort,
      WEBHOOK_ALLOW_TARGETS: subscriber.hostPort,
      ATTACHMENT_RETRY_INITIAL_INTERVAL: '100ms',
    },
    {
      activityDeps: {
        resolve: async (hostname) => {
          if (hostname === PRIVATE_NAME) return ['10.0.0.1'];
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        },
      },
    },
  );
  ({ ctx, api } = stack);
  [org, other] = await Promise.all([seedOrganization(ctx.deps), seedOrganization(ctx.deps)]);
});

afterAll(async () => {
  await stack.close();
  await files.close();
  await subscriber.close();
});

async function createListing(attachments: unknown[], overrides: Record<string, unknown> = {}) {
  const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments, ...overrides }) });
  expect({ status: response.status, error: response.body.error }).toEqual({ status: 201, error: undefined });
  return response.body.data;
}

const listingOf = async (id: string) => (await api.request('GET', `/api/v1/listings/${id}`, { key: org.secretKey })).body.data;

const untilSettled = (id: string, timeoutMs = 60_000) =>
  eventually(async () => {
    const listing = await listingOf(id);
    return listing.attachments.every((attachment: { state: string }) => attachment.state === 'ready' || attachment.state === 'failed') ? listing : undefined;
  }, timeoutMs);

async function storedKeys(prefix: string, bucket = ctx.deps.config.S3_BUCKET_ATTACHMENTS): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of ctx.deps.storage.listObjectsV2(bucket, prefix, true)) keys.push((item as { name: string }).name);
  return keys;
}

describe('ten image URLs', () => {
  it('are fetched in order, all ready with variants, and property.processing_succeeded carries the listing', async () => {
    const jpegs = await Promise.all(Array.from({ length: 10 }, (_, index) => makeJpeg(640 + index * 8, 480)));
    const urls = jpegs.map((jpeg, index) => files.route(`/photos/${index}.jpg`, serve(jpeg, 'image/jpeg')));
    const hook = subscriber.endpoint();
    const webhook = await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: hook, events: ['property.*'] } });
    expect(webhook.status).toBe(201);

    const created = await createListing(urls.map((url, index) => ({ url, kind: 'image', title: `Photo ${index}` })));
    expect(created.attachments).toHaveLength(10);
    expect(created.attachments.map((attachment: { url: string }) => attachment.url)).toEqual(urls);
    expect(created.attachments.every((attachment: { state: string }) => attachment.state === 'pending')).toBe(true);
    expect(created.attachments[0].is_title).toBe(true);

    const listing = await untilSettled(created.id);
    expect(listing.attachments.map((attachment: { url: string }) => attachment.url)).toEqual(urls);
    listing.attachments.forEach((attachment: any, index: number) => {
      expect(attachment).toMatchObject({ state: 'ready', failure_code: null, kind: 'image', content_type: 'image/jpeg', size: jpegs[index].length, width: 640 + index * 8, height: 480 });
      expect(attachment.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(attachment.variants.map((variant: { name: string }) => variant.name).sort()).toEqual(['large', 'thumbnail']);
    });
    // The variant URLs are the uploaded images' public URLs, and they serve WebP.
    const thumbnail = listing.attachments[0].variants.find((variant: { name: string }) => variant.name === 'thumbnail');
    expect(thumbnail.url).toBe(`${ctx.deps.config.S3_PUBLIC_ENDPOINT}/${ctx.deps.config.S3_BUCKET_IMAGES}/${imageObjectKeys.variant(listing.attachments[0].id, 'thumbnail')}`);
    const served = await fetch(thumbnail.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/webp');
    expect(thumbnail.width).toBe(400);

    // One object per attachment in the attachments bucket.
    expect((await storedKeys(`${org.organization.id}/${created.id}/`)).sort()).toEqual(listing.attachments.map((attachment: { id: string }) => attachmentObjectKey(org.organization.id, created.id, attachment.id, 1)).sort());

    const list = await api.request('GET', `/api/v1/listings/${created.id}/attachments`, { key: org.secretKey });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual(listing.attachments);

    const events = await eventsOf(api, org.secretKey, created.id);
    const succeeded = events.filter((event) => event.eventName === 'property.processing_succeeded');
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0].eventPayload).toMatchObject({ listingId: created.id, id: created.id, external_ref: created.external_ref, attachments: listing.attachments });
    expect(events.some((event) => event.eventName === 'property.processing_failed')).toBe(false);

    const delivery = await eventually(async () => subscriber.received.find((received) => received.path === new URL(hook).pathname && received.body?.eventName === 'property.processing_succeeded'));
    expect(Object.keys(delivery.body).sort()).toEqual(['eventId', 'eventName', 'eventPayload', 'eventTime']);
    expect(delivery.body.eventPayload).toMatchObject({ id: created.id, attachments: listing.attachments });

    // An unchanged URL is not downloaded again: a PATCH that only adds a document downloads only
    // that, and revalidates the photos by their ETags (each answered 304).
    const before = urls.map((url) => files.hits.get(new URL(url).pathname) ?? 0);
    const pdfUrl = files.route('/docs/expose.pdf', serve(makePdf(), 'application/pdf'));
    const patched = await api.request('PATCH', `/api/v1/listings/${created.id}`, {
      key: org.secretKey,
      body: { attachments: [...urls.map((url) => ({ url, kind: 'image' })), { url: pdfUrl, kind: 'document' }] },
    });
    expect(patched.status).toBe(200);
    const updated = await eventually(async () => {
      const current = await listingOf(created.id);
      return current.attachments[10]?.state === 'ready' ? current : undefined;
    });
    expect(updated.attachments.slice(0, 10).map((attachment: { id: string }) => attachment.id)).toEqual(listing.attachments.map((attachment: { id: string }) => attachment.id));
    expect(updated.attachments[10]).toMatchObject({ kind: 'document', content_type: 'application/pdf', variants: [] });
    expect(urls.map((url) => files.hits.get(new URL(url).pathname))).toEqual(before.map((hits) => hits + 1));
    expect(urls.map((url) => files.notModified.get(new URL(url).pathname))).toEqual(urls.map(() => 1));
    const copy = ({ id, sha256, fetched_at, variants }: Record<string, unknown>) => ({ id, sha256, fetched_at, variants });
    expect(updated.attachments.slice(0, 10).map(copy)).toEqual(listing.attachments.slice(0, 10).map(copy));
    const client = await ctx.deps.temporal.get();
    const handle = client.workflow.getHandle(workflowIds.propertyProcessing(created.id, updated.revision));
    // The states commit in the run's last activity; the run completes a moment later.
    const description = await eventually(async () => {
      const described = await handle.describe();
      return described.status.name === 'COMPLETED' ? described : undefined;
    });
    expect(await handle.result()).toEqual({ outcome: 'succeeded', ready: 11, failed: 0 });
    expect(description.searchAttributes).toMatchObject({ OrgId: [org.organization.id], ListingId: [created.id], ExternalRef: [created.external_ref] });
    const progress = await handle.query('progress');
    expect(progress).toHaveLength(11);
    expect((progress as { state: string }[]).every((entry) => entry.state === 'ready')).toBe(true);

    const updatedEvent = (await eventsOf(api, org.secretKey, created.id)).filter((event) => event.eventName === 'listing.updated').at(-1);
    expect(updatedEvent?.eventPayload.changed_fields).toEqual(['attachments']);
    expect(updatedEvent?.eventPayload.previous_attributes.attachments).toHaveLength(10);
    expect(updatedEvent?.eventPayload.attachments).toHaveLength(11);
  });
});

describe('bad attachments', () => {
  it('each fail with their own code, nothing stored, and property.processing_failed names the first failure', async () => {
    const hook = subscriber.endpoint();
    await api.request('POST', '/api/v1/webhooks', { key: org.secretKey, body: { url: hook, events: ['property.processing_failed'] } });
    const pdf = makePdf();
    const attachments = [
      { url: files.route('/bad/missing.jpg', (_req, res) => void res.writeHead(404).end('gone')), kind: 'image', expected: 'http_4xx' },
      { url: files.route('/bad/huge.pdf', stream(pdf, 17 * MB)), kind: 'document', expected: 'too_large' },
      {
        url: files.route('/bad/honest-huge.pdf', (_req, res) => {
          res.writeHead(200, { 'Content-Length': 17 * MB });
          res.write(pdf);
          setTimeout(() => res.destroy(), 2000);
        }),
        kind: 'document',
        expected: 'too_large',
      },
      {
        // Says 100 kB, sends a few hundred bytes and hangs up: never stored as if complete.
        url: files.route('/bad/lying.pdf', (_req, res) => {
          res.writeHead(200, { 'Content-Length': 100_000, 'Content-Type': 'application/pdf' });
          res.write(pdf);
          setTimeout(() => res.destroy(), 50);
        }),
        kind: 'document',
        expected: 'url_unreachable',
      },
      { url: files.route('/bad/really-a-pdf.jpg', serve(pdf, 'image/jpeg')), kind: 'image', expected: 'unsupported_type' },
      { url: files.route('/bad/to-loopback', (_req, res) => void res.writeHead(302, { Location: 'https://127.0.0.1/admin' }).end()), kind: 'document', expected: 'private_address_blocked' },
      { url: `https://${PRIVATE_NAME}/plan.pdf`, kind: 'floor_plan', expected: 'private_address_blocked' },
      { url: 'https://no-such-host.example/plan.pdf', kind: 'floor_plan', expected: 'dns_failed' },
      { url: files.route('/bad/loop', (_req, res) => void res.writeHead(302, { Location: '/bad/loop' }).end()), kind: 'document', expected: 'too_many_redirects' },
      { url: files.route('/bad/broken.jpg', serve(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]), 'image/jpeg')), kind: 'image', expected: 'decode_failed' },
      { url: files.route('/bad/flaky.pdf', (_req, res) => void res.writeHead(503).end('busy')), kind: 'document', expected: 'http_5xx' },
    ];
    const created = await createListing(attachments.map(({ url, kind }) => ({ url, kind })));
    const listing = await untilSettled(created.id, 90_000);
    expect(listing.attachments.map((attachment: { failure_code: string }) => attachment.failure_code)).toEqual(attachments.map((attachment) => attachment.expected));
    for (const attachment of listing.attachments) {
      expect(attachment).toMatchObject({ state: 'failed', content_type: null, size: null, sha256: null, variants: [] });
      expect(attachment.failure_message).toEqual(expect.any(String));
    }
    // Nothing stored, not even an unfinished multipart upload.
    expect(await storedKeys(`${org.organization.id}/${created.id}/`)).toEqual([]);
    const incomplete: unknown[] = [];
    for await (const upload of ctx.deps.storage.listIncompleteUploads(ctx.deps.config.S3_BUCKET_ATTACHMENTS, `${org.organization.id}/${created.id}/`, true)) incomplete.push(upload);
    expect(incomplete).toEqual([]);
    // Transient failures were retried, at most three times; final ones were not.
    expect(files.hits.get('/bad/flaky.pdf')).toBe(4);
    expect(files.hits.get('/bad/lying.pdf')).toBe(4);
    expect(files.hits.get('/bad/missing.jpg')).toBe(1);
    expect(files.hits.get('/bad/really-a-pdf.jpg')).toBe(1);
    expect(files.hits.get('/bad/loop')).toBe(6);

    const failed = (await eventsOf(api, org.secretKey, created.id)).filter((event) => event.eventName === 'property.processing_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].eventPayload).toMatchObject({ failureCode: 'http_4xx', failureMessage: expect.stringContaining('404'), id: created.id, attachments: listing.attachments });
    const delivery = await eventually(async () => subscriber.received.find((received) => received.path === new URL(hook).pathname));
    expect(delivery.body).toMatchObject({ eventName: 'property.processing_failed', eventPayload: { failureCode: 'http_4xx', id: created.id } });
  });
});

describe('validation', () => {
  const photo = (index: number) => ({ url: `https://cdn.example.com/photos/${index}.jpg`, kind: 'image' });

  it('refuses 151 attachments, and bad URLs naming the index, with 400 VALIDATION_ERROR', async () => {
    const many = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments: Array.from({ length: 151 }, (_, index) => photo(index)) }) });
    expect(many.status).toBe(400);
    expect(many.body.error.code).toBe('VALIDATION_ERROR');
    expect(many.body.error.details.fields).toEqual([expect.objectContaining({ path: 'attachments' })]);
    const max = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments: Array.from({ length: 150 }, (_, index) => photo(index)) }) });
    expect(max.status).toBe(201);

    const cases: [unknown, string][] = [
      ['http://cdn.example.com/a.jpg', 'https'],
      ['https://127.0.0.1/a.jpg', 'blocked'],
      ['https://169.254.169.254/latest/meta-data', 'blocked'],
      ['https://localhost/a.jpg', 'loopback'],
      ['https://user:secret@cdn.example.com/a.jpg', 'credentials'],
      [`https://cdn.example.com/${'a'.repeat(2048)}`, '2048'],
      ['ftp://cdn.example.com/a.jpg', 'https'],
      ['not a url', 'https'],
      [42, ''],
    ];
    for (const [url, message] of cases) {
      const response = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments: [photo(0), photo(1), photo(2), { url, kind: 'image' }] }) });
      expect({ url, status: response.status, code: response.body.error?.code }).toEqual({ url, status: 400, code: 'VALIDATION_ERROR' });
      expect(response.body.error.details.fields).toEqual([{ path: 'attachments.3.url', message: expect.stringContaining(message) }]);
    }
    const badKind = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments: [{ url: 'https://cdn.example.com/a', kind: 'video' }] }) });
    expect(badKind.status).toBe(400);
    expect(badKind.body.error.details.fields[0].path).toBe('attachments.0.kind');
    const twoTitles = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments: [{ ...photo(0), is_title: true }, { ...photo(1), is_title: true }] }) });
    expect(twoTitles.status).toBe(400);
    expect(twoTitles.body.error.details.fields[0].path).toBe('attachments.1.is_title');

    // PATCH validates the same way.
    const listing = await createListing([]);
    const patch = await api.request('PATCH', `/api/v1/listings/${listing.id}`, { key: org.secretKey, body: { attachments: [photo(0), { url: 'https://10.0.0.8/x.pdf', kind: 'document' }] } });
    expect(patch.status).toBe(400);
    expect(patch.body.error.details.fields).toEqual([{ path: 'attachments.1.url', message: expect.stringContaining('blocked') }]);
  });

  it("answers 404 for another organisation's listing", async () => {
    const listing = await createListing([]);
    const list = await api.request('GET', `/api/v1/listings/${listing.id}/attachments`, { key: other.secretKey });
    expect(list.status).toBe(404);
    expect(list.body.error.code).toBe('NOT_FOUND');
    const patch = await api.request('PATCH', `/api/v1/listings/${listing.id}`, { key: other.secretKey, body: { attachments: [photo(0)] } });
    expect(patch.status).toBe(404);
    const own = await api.request('GET', `/api/v1/listings/${listing.id}/attachments`, { key: org.secretKey });
    expect(own.body).toEqual({ data: [], pagination: { next_cursor: null, has_more: false, limit: 150 } });
  });

  it('marks the title image and keeps it while the attachments change order', async () => {
    const first = files.route('/title/a.jpg', serve(await makeJpeg(100, 100), 'image/jpeg'));
    const second = files.route('/title/b.jpg', serve(await makeJpeg(120, 100), 'image/jpeg'));
    const listing = await createListing([
      { url: files.route('/title/plan.pdf', serve(makePdf(), 'application/pdf')), kind: 'floor_plan' },
      { url: first, kind: 'image' },
      { url: second, kind: 'image', is_title: true },
    ]);
    expect(listing.attachments.map((attachment: { is_title: boolean }) => attachment.is_title)).toEqual([false, false, true]);
    const settled = await untilSettled(listing.id);
    expect(settled.attachments.map((attachment: { state: string }) => attachment.state)).toEqual(['ready', 'ready', 'ready']);
    expect(settled.attachments[0].content_type).toBe('application/pdf');
  });
});

describe('removing attachments', () => {
  it('deletes the stored objects of a removed attachment, and of every attachment when the listing is deleted', async () => {
    const photo = files.route('/removal/photo.jpg', serve(await makeJpeg(300, 200), 'image/jpeg'));
    const plan = files.route('/removal/plan.pdf', serve(makePdf(), 'application/pdf'));
    const created = await createListing([
      { url: photo, kind: 'image' },
      { url: plan, kind: 'floor_plan' },
    ]);
    const ready = await untilSettled(created.id);
    expect(ready.attachments.map((attachment: { state: string }) => attachment.state)).toEqual(['ready', 'ready']);
    const [photoId, planId] = ready.attachments.map((attachment: { id: string }) => attachment.id);
    const prefix = `${org.organization.id}/${created.id}/`;
    expect((await storedKeys(prefix)).length).toBe(2);
    expect(await storedKeys(`variants/${photoId}/`, ctx.deps.config.S3_BUCKET_IMAGES)).toHaveLength(2);

    const patched = await api.request('PATCH', `/api/v1/listings/${created.id}`, { key: org.secretKey, body: { attachments: [{ url: plan, kind: 'floor_plan' }] } });
    expect(patched.body.data.attachments.map((attachment: { id: string }) => attachment.id)).toEqual([planId]);
    await eventually(async () => (await storedKeys(`variants/${photoId}/`, ctx.deps.config.S3_BUCKET_IMAGES)).length === 0);
    expect(await storedKeys(prefix)).toEqual([attachmentObjectKey(org.organization.id, created.id, planId, 1)]);

    const removed = await api.request('DELETE', `/api/v1/listings/${created.id}`, { key: org.secretKey });
    expect(removed.status).toBe(200);
    await eventually(async () => (await storedKeys(prefix)).length === 0);
    const deletedEvent = (await eventsOf(api, org.secretKey, created.id)).find((event) => event.eventName === 'listing.deleted');
    expect(deletedEvent?.eventPayload.attachments.map((attachment: { id: string }) => attachment.id)).toEqual([planId]);
  });
});

describe('revalidation of a kept URL', () => {
  it('downloads nothing on a 304, keeps the copy when only the ETag changed, replaces it when the content did, and keeps it when the origin fails', async () => {
    const first = await makeJpeg(320, 240);
    const second = await makeJpeg(360, 240);
    let photo = serve(first, 'image/jpeg', '"photo-v1"');
    const photoUrl = files.route('/reval/photo.jpg', (req, res, socket) => photo(req, res, socket));
    // Same bytes under a new ETag on every request, as several CDN nodes may answer.
    const pdf = makePdf();
    let planEtag = 0;
    const planUrl = files.route('/reval/plan.pdf', (req, res, socket) => serve(pdf, 'application/pdf', `"node-${(planEtag += 1)}"`)(req, res, socket));
    // No ETag at all: the kept copy stands without a request.
    const docUrl = files.route('/reval/doc.pdf', (_req, res) => void res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': pdf.length }).end(pdf));
    const base = [
      { url: photoUrl, kind: 'image' },
      { url: planUrl, kind: 'floor_plan' },
      { url: docUrl, kind: 'document' },
    ];
    const created = await createListing(base);
    const ready = await untilSettled(created.id);
    expect(ready.attachments.map((attachment: { state: string }) => attachment.state)).toEqual(['ready', 'ready', 'ready']);
    const [photoId, planId, docId] = ready.attachments.map((attachment: { id: string }) => attachment.id);
    const client = await ctx.deps.temporal.get();
    const settle = async (revision: number) => {
      const result = await eventually(async () => client.workflow.getHandle(workflowIds.propertyProcessing(created.id, revision)).result());
      return { result, listing: await listingOf(created.id) };
    };
    const patch = async (attachments: unknown[]) => {
      const response = await api.request('PATCH', `/api/v1/listings/${created.id}`, { key: org.secretKey, body: { attachments } });
      expect(response.status).toBe(200);
      return response.body.data.revision as number;
    };
    const prefix = `${org.organization.id}/${created.id}/`;
    const hitsOf = (url: string) => files.hits.get(new URL(url).pathname) ?? 0;

    // r2 adds a document: the photo is answered 304, the plan downloaded but recognised by its
    // sha256, the ETag-less document not asked for at all. All three keep their r1 copies.
    const added = files.route('/reval/added.pdf', serve(makePdf(), 'application/pdf'));
    const r2 = await patch([...base, { url: added, kind: 'document' }]);
    const second2 = await settle(r2);
    expect(second2.result).toEqual({ outcome: 'succeeded', ready: 4, failed: 0 });
    expect(files.notModified.get('/reval/photo.jpg')).toBe(1);
    expect(hitsOf(planUrl)).toBe(2);
    expect(hitsOf(docUrl)).toBe(1);
    expect(second2.listing.attachments.slice(0, 3)).toEqual(ready.attachments);
    const addedId = second2.listing.attachments[3].id;
    expect((await storedKeys(prefix)).sort()).toEqual(
      [...[photoId, planId, docId].map((id) => attachmentObjectKey(org.organization.id, created.id, id, 1)), attachmentObjectKey(org.organization.id, created.id, addedId, r2)].sort(),
    );

    // r3 removes that document while the photo has new content: fetched again, new variants, and
    // the r1 copy is gone.
    photo = serve(second, 'image/jpeg', '"photo-v2"');
    const r3 = await patch(base);
    const third = await settle(r3);
    expect(third.result).toEqual({ outcome: 'succeeded', ready: 3, failed: 0 });
    const newPhoto = third.listing.attachments[0];
    expect(newPhoto).toMatchObject({ id: photoId, state: 'ready', width: 360, size: second.length });
    expect(newPhoto.sha256).not.toBe(ready.attachments[0].sha256);
    await eventually(async () => !(await storedKeys(prefix)).includes(attachmentObjectKey(org.organization.id, created.id, addedId, r2)));
    expect((await storedKeys(prefix)).sort()).toEqual(
      [attachmentObjectKey(org.organization.id, created.id, photoId, r3), ...[planId, docId].map((id) => attachmentObjectKey(org.organization.id, created.id, id, 1))].sort(),
    );

    // r4: the origin now fails. The copy that was ready stays ready (stale-if-error), nothing
    // is deleted, and the run succeeds.
    photo = (_req, res) => void res.writeHead(404).end('gone');
    const r4 = await patch([...base].reverse());
    const fourth = await settle(r4);
    expect(fourth.result).toEqual({ outcome: 'succeeded', ready: 3, failed: 0 });
    expect(fourth.listing.attachments[2]).toEqual({ ...newPhoto, sort_order: 2 });
    expect(await storedKeys(prefix)).toContain(attachmentObjectKey(org.organization.id, created.id, photoId, r3));
  });
});

describe('a superseded revision', () => {
  it('writes nothing: only the run of the newest attachments reports', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = files.route('/superseded/slow.pdf', async (_req, res) => {
      await held;
      serve(makePdf(), 'application/pdf')(_req, res, res.socket as never);
    });
    const fresh = files.route('/superseded/fresh.pdf', serve(makePdf(), 'application/pdf'));
    const created = await createListing([{ url: slow, kind: 'document' }]);
    await eventually(async () => (files.hits.get('/superseded/slow.pdf') ?? 0) > 0);

    // A newer write replaces the attachments while r1's fetch is still held.
    const patched = await api.request('PATCH', `/api/v1/listings/${created.id}`, { key: org.secretKey, body: { attachments: [{ url: fresh, kind: 'document' }] } });
    expect(patched.status).toBe(200);
    const client = await ctx.deps.temporal.get();
    // The outbox relay starts it moments after the commit.
    await eventually(async () => client.workflow.getHandle(workflowIds.propertyProcessing(created.id, 2)).describe());
    expect(await client.workflow.getHandle(workflowIds.propertyProcessing(created.id, 2)).result()).toEqual({ outcome: 'succeeded', ready: 1, failed: 0 });
    release();
    expect(await client.workflow.getHandle(workflowIds.propertyProcessing(created.id, 1)).result()).toEqual({ outcome: 'superseded', ready: 0, failed: 0 });

    const listing = await listingOf(created.id);
    expect(listing.attachments).toEqual([expect.objectContaining({ url: fresh, state: 'ready' })]);
    const events = (await eventsOf(api, org.secretKey, created.id)).filter((event) => event.eventName.startsWith('property.'));
    expect(events.map((event) => [event.eventName, event.eventPayload.revision])).toEqual([['property.processing_succeeded', 2]]);
    // What r1 stored for the attachment r2 removed is gone again.
    expect(await storedKeys(`${org.organization.id}/${created.id}/`)).toEqual([attachmentObjectKey(org.organization.id, created.id, listing.attachments[0].id, 2)]);
  });
});
