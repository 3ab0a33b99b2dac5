import { attachmentObjectKey } from '../../../src/domain/attachments';
import { eventually, seedOrganization } from '../../support/context';
import { FakeFileServer, startFakeFileServer } from '../../support/fileServer';
import { makePdf } from '../../support/images';
import { completeListing, eventsOf } from '../../support/listings';
import { CrashTestStack, startCrashTestStack } from '../../support/workerProcess';

/**
 * A fetch is durable: a worker SIGKILLed in the middle of a 16 MB body stops heartbeating, the
 * fetch restarts on another worker within seconds, and the attachment ends ready once, stored
 * as one object.
 */
jest.setTimeout(240_000);

const SIZE = 16 * 1024 * 1024;
let files: FakeFileServer;
let stack: CrashTestStack;
/** Bytes sent by each request for the file, in order. */
const sent: number[] = [];
const startedAt: number[] = [];

beforeAll(async () => {
  files = await startFakeFileServer();
  files.route('/slow/expose.pdf', async (_req, res) => {
    const attempt = sent.push(0) - 1;
    startedAt.push(Date.now());
    res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': SIZE });
    const chunk = 256 * 1024;
    const head = makePdf();
    for (let offset = 0; offset < SIZE && !res.destroyed; offset += chunk) {
      const piece = Buffer.alloc(chunk, 0x20);
      if (offset === 0) head.copy(piece);
      if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
      sent[attempt] += chunk;
      // About 25 s for the whole body on the first attempt (time to kill it midway), quick on the retry.
      await new Promise((resolve) => setTimeout(resolve, attempt === 0 ? 400 : 20));
    }
    res.end();
  });
  stack = await startCrashTestStack({ ATTACHMENT_ALLOW_TARGETS: files.hostPort, ATTACHMENT_RETRY_INITIAL_INTERVAL: '100ms' });
});

afterAll(async () => {
  await stack.close();
  await files.close();
});

it('ends ready once, with one object, after the worker fetching it is SIGKILLed', async () => {
  const { ctx, api } = stack;
  const org = await seedOrganization(ctx.deps);
  const first = await stack.startWorker();
  const url = `${files.origin}/slow/expose.pdf`;
  const created = await api.request('POST', '/api/v1/listings', { key: org.secretKey, body: completeListing({ attachments: [{ url, kind: 'document' }] }) });
  expect(created.status).toBe(201);
  const listingId = created.body.data.id;

  // The only worker has the fetch, well into the body (half of it already streamed into the
  // store's PUT).
  await eventually(async () => (sent[0] ?? 0) > 8 * 1024 * 1024, 120_000, 50);
  const fetching = await api.request('GET', `/api/v1/listings/${listingId}/attachments`, { key: org.secretKey });
  expect(fetching.body.data[0].state).toBe('fetching');
  await first.kill('SIGKILL');
  const killedAt = Date.now();
  const interrupted = sent[0];
  await stack.startWorker();

  const ready = await eventually(async () => {
    const response = await api.request('GET', `/api/v1/listings/${listingId}/attachments`, { key: org.secretKey });
    return response.body.data[0].state === 'ready' ? response.body.data[0] : undefined;
  }, 150_000);
  expect(ready).toMatchObject({ state: 'ready', size: SIZE, content_type: 'application/pdf', failure_code: null });
  // The killed attempt never finished its body; a later one fetched it whole.
  expect(interrupted).toBeLessThan(SIZE);
  expect(sent.length).toBeGreaterThanOrEqual(2);
  // The retry began once the new worker was up (the heartbeat timeout, 10 s, had long passed while
  // it started), not after the attempt's start-to-close timeout of two minutes.
  expect(startedAt[1] - killedAt).toBeLessThan(90_000);

  const bucket = ctx.deps.config.S3_BUCKET_ATTACHMENTS;
  const keys: string[] = [];
  for await (const item of ctx.deps.storage.listObjectsV2(bucket, `${org.organization.id}/${listingId}/`, true)) keys.push((item as { name: string }).name);
  expect(keys).toEqual([attachmentObjectKey(org.organization.id, listingId, ready.id, 1)]);
  expect((await ctx.deps.storage.statObject(bucket, keys[0])).size).toBe(SIZE);
  const incomplete: unknown[] = [];
  for await (const upload of ctx.deps.storage.listIncompleteUploads(bucket, `${org.organization.id}/${listingId}/`, true)) incomplete.push(upload);
  expect(incomplete).toEqual([]);

  const events = await eventsOf(api, org.secretKey, listingId);
  expect(events.filter((event) => event.eventName === 'property.processing_succeeded')).toHaveLength(1);
  expect(events.filter((event) => event.eventName === 'property.processing_failed')).toHaveLength(0);
});
